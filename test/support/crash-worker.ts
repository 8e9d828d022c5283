// A worker in its own process, so the crash test can SIGKILL it mid-run.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { openStore } from '../../store/db.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const { TEMPORAL_ADDRESS, TASK_QUEUE, BUNDLE_PATH, DATABASE_URL } = process.env;
const store = await openStore({ databaseUrl: DATABASE_URL! });
const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS! });
const worker = await Worker.create({
  connection,
  taskQueue: TASK_QUEUE!,
  workflowBundle: { codePath: BUNDLE_PATH! },
  activities: createActivities({ store, ...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}) }),
});
process.stdout.write('worker ready\n');
await worker.run();
