import { vitestGlobalSetup } from '@crm/db/testing';

export default vitestGlobalSetup;
