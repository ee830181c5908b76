import { vitestGlobalSetup } from '../src/testing.ts';

export default vitestGlobalSetup;
