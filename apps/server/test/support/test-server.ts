// The real server entry (serve: config from the environment, signals, banner) with the test-only
// widgets module added, for tests that run Lyceum as a separate process. The injection suite also
// asks for its deliberately injectable control route (LYCEUM_TEST_INJECTABLE=1) instead, without the
// widgets fixture: it signs in real accounts, which the widgets' test authenticator would refuse.
import { loadConfig } from '../../src/core/config/config.js';
import { serve } from '../../src/serve.js';
import { createInjectableModule } from './injectable.module.js';
import { createWidgetsModule } from './widgets/widgets.module.js';

await serve(loadConfig(), process.env.LYCEUM_TEST_INJECTABLE === '1' ? [createInjectableModule] : [createWidgetsModule]);
