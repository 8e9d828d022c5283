// Preloaded (--require) into the supervised worker process and so into each of its workflow threads.
// There it marks the SDK's stack-trace hooks as installed, so the SDK does not install them: the
// promise hook captures a stack for every promise a workflow creates, only to answer the Web UI's
// "Stack Trace" query, and cost a Closeloop run more worker CPU than its interpreter (docs/decisions.md
// "Workflow stack traces"). CLOSELOOP_WORKFLOW_STACKS=1 keeps them.
const { isMainThread } = require('node:worker_threads');

if (!isMainThread && process.env.CLOSELOOP_WORKFLOW_STACKS !== '1') {
  require('@temporalio/worker/lib/workflow/vm-shared.js').globalHandlers.installed = true;
}
