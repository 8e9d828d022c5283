import { ApplicationFailure, sleep } from '@temporalio/activity';
import { mockOutcome, type Mocks } from '../dsl/mocks.js';
import type { ActionInput } from './types.js';
import { FAILURE } from '../contracts/failures.js';

/** Pack actions and mocked actions. Pack runners (plugin/http) arrive with the language issue. */
export function actionActivities(deps: { mocks?: Mocks }) {
  return {
    async runAction(input: ActionInput): Promise<unknown> {
      const mock = deps.mocks ? mockOutcome(deps.mocks, input.ref, { input: input.input, attempt: input.attempt, item: input.item }, input.task) : null;
      if (mock) {
        if (mock.delay > 0) await sleep(mock.delay * 1000);
        if (mock.kind === 'fail') throw ApplicationFailure.create({ type: mock.type, message: mock.message, nonRetryable: true });
        return mock.value;
      }
      throw ApplicationFailure.create({
        type: FAILURE.unknownAction,
        message: `action '${input.ref}' has no runner on this worker (not a built-in, not mocked)`,
        nonRetryable: true,
      });
    },
  };
}
