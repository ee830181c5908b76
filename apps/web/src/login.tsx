import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { errorCode, errorMessage, fieldErrors } from './errors.ts';
import { queryClient, trpc } from './trpc.ts';
import { Field } from './ui.tsx';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [local, setLocal] = useState<Record<string, string>>({});
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: (me) => {
        queryClient.setQueryData(trpc.auth.me.queryKey(), me);
      },
    }),
  );

  const serverFields = fieldErrors(login.error);
  const errors = { ...serverFields, ...local };
  const formError = login.error && !serverFields.email && !serverFields.password ? login.error : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    const next: Record<string, string> = {};
    if (!email.trim()) next.email = 'Enter your email address.';
    else if (!/^[^\s@]+@[^\s@]+$/.test(email.trim()))
      next.email = 'Enter an email address like name@example.com.';
    if (!password) next.password = 'Enter your password.';
    setLocal(next);
    if (Object.keys(next).length === 0) login.mutate({ email, password });
  }

  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <h1 id="login-title">Sign in</h1>
        <p className="muted">Shopify order sync for your CRM workspace.</p>
        {formError ? (
          <div
            className={`notice ${errorCode(formError) === 'TOO_MANY_REQUESTS' ? 'notice-warning' : 'notice-error'}`}
            role="alert"
          >
            {errorMessage(formError)}
          </div>
        ) : null}
        <Field label="Email" error={errors.email}>
          {(p) => (
            <input
              {...p}
              type="email"
              name="email"
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password" error={errors.password}>
          {(p) => (
            <input
              {...p}
              type="password"
              name="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="btn btn-primary btn-block" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
