/**
 * "Where orders land": the pipeline and the stage new orders start in. Changing the pipeline resets
 * the stage; a pipeline deleted elsewhere in the CRM shows as no choice, with an error asking for another.
 */
import { useController, useFormContext, useWatch } from 'react-hook-form';
import { Field } from '../../ui.tsx';
import { type Pipeline, pipelineChoice, type SettingsValues } from './form-values.ts';

const MISSING_PIPELINE =
  'The pipeline chosen before no longer exists. Choose another, then replay the failed events.';

export function DestinationFields({ pipelines }: { pipelines: Pipeline[] }) {
  const { control, formState, setValue } = useFormContext<SettingsValues>();
  const errors = formState.errors;
  const pipelineField = useController({ control, name: 'pipelineId' }).field;
  const stageField = useController({ control, name: 'stageId' }).field;
  const [chosenPipeline, chosenStage] = useWatch({ control, name: ['pipelineId', 'stageId'] });
  const { pipeline, pipelineId, stageId, missingPipeline } = pipelineChoice(
    pipelines,
    chosenPipeline,
    chosenStage,
  );
  return (
    <div className="grid-2">
      <Field
        label="Pipeline"
        error={errors.pipelineId?.message ?? (missingPipeline && !pipelineId ? MISSING_PIPELINE : undefined)}
        hint={
          !pipelineId && !missingPipeline ? 'Orders cannot be created until a pipeline is chosen.' : undefined
        }
      >
        {(p) => (
          <select
            {...p}
            name={pipelineField.name}
            ref={pipelineField.ref}
            onBlur={pipelineField.onBlur}
            value={pipelineId}
            onChange={(e) => {
              pipelineField.onChange(e.target.value);
              setValue('stageId', '');
            }}
          >
            <option value="">Choose a pipeline…</option>
            {pipelines.map((pl) => (
              <option key={pl.id} value={pl.id}>
                {pl.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Stage" error={errors.stageId?.message} hint="New orders start here.">
        {(p) => (
          <select
            {...p}
            name={stageField.name}
            ref={stageField.ref}
            onBlur={stageField.onBlur}
            value={stageId}
            disabled={!pipeline}
            onChange={(e) => stageField.onChange(e.target.value)}
          >
            <option value="">{pipeline ? `First stage (${pipeline.stages[0]?.name ?? 'none'})` : '—'}</option>
            {(pipeline?.stages ?? [])
              .filter((s) => !s.isCancelled)
              .map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
          </select>
        )}
      </Field>
    </div>
  );
}
