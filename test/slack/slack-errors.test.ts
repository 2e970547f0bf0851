import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';
import { freePort } from '../../emulators/free-port';
import { DirectoryUnavailableError } from '../../src/core/errors';
import { systemClock as clock } from '../../src/clock';
import { SlackDirectory } from '../../src/slack/directory';
import { slackError } from '../../src/slack/delivery-errors';

// Web API v8 throws error classes (WebAPIPlatformError, WebAPIRequestError, …): what the adapters
// make of the real ones, thrown by a real WebClient against the Slack double or a closed port.

let slack: SlackDouble;
beforeAll(async () => {
  slack = await startSlackDouble();
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => {
  slack.reset();
});

const client = (slackApiUrl = slack.url) => new WebClient(slack.token, { slackApiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });

async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('Slack Web API errors as the adapters see them', () => {
  it('an {ok:false} answer is logged as its Slack error code, nothing else', async () => {
    slack.failNext('chat.postMessage', 'channel_not_found');
    const err = await rejectionOf(client().chat.postMessage({ channel: 'C404', text: 'hi' }));
    expect(slackError(err)).toEqual({ name: 'WebAPIPlatformError', code: 'slack_webapi_platform_error', error: 'channel_not_found' });
  });

  it('an unreachable Slack is logged as a request error with the system code', async () => {
    const err = await rejectionOf(client(`http://127.0.0.1:${await freePort()}/api/`).chat.postMessage({ channel: 'C1', text: 'hi' }));
    expect(slackError(err)).toMatchObject({ code: 'slack_webapi_request_error', cause: 'ECONNREFUSED' });
  });

  it('anything that is not a Slack error keeps only its name and system code', () => {
    expect(slackError(Object.assign(new TypeError('x'), { config: { headers: { authorization: 'Bearer xoxb-secret' } } }))).toEqual({ name: 'TypeError' });
    expect(slackError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toEqual({ name: 'Error', cause: 'ECONNRESET' });
    expect(slackError('a string')).toEqual({ name: 'Error' });
  });

  it('the directory takes an unknown user or group as an answer', async () => {
    const directory = new SlackDirectory(client(), clock);
    slack.failNext('users.info', 'user_not_found');
    expect(await directory.user('U404')).toBeNull();
    expect(await directory.groupMembers('S404')).toEqual([]);
  });

  it('the directory throws when Slack could not be asked, or refused for another reason', async () => {
    slack.failNext('users.info', 'invalid_auth');
    const refused = new SlackDirectory(client(), clock).user('U111');
    await expect(refused).rejects.toBeInstanceOf(DirectoryUnavailableError);
    await expect(refused).rejects.toThrow('Slack users.info failed (invalid_auth)');
    const unreachable = new SlackDirectory(client(`http://127.0.0.1:${await freePort()}/api/`), clock);
    await expect(unreachable.groupMembers('S1')).rejects.toThrow('Slack usergroups.users.list failed (slack_webapi_request_error)');
  });
});
