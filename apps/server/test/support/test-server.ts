// The real server entry (serve: config from the environment, signals, banner) with the test-only
// widgets module added, for tests that run Lyceum as a separate process.
import { loadConfig } from '../../src/core/config/config.js';
import { serve } from '../../src/serve.js';
import { createWidgetsModule } from './widgets/widgets.module.js';

await serve(loadConfig(), [createWidgetsModule]);
