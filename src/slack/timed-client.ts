import { WebClient, type WebAPICallResult, type WebClientOptions } from '@slack/web-api';
import { timed, type Metrics } from '../metrics';

/**
 * A WebClient whose every Web API call lands in the upstream latency histogram as service `slack`,
 * operation = the API method name (a closed set: only the code chooses it). WebClient binds each
 * method (`chat.postMessage`, …) to `apiCall` when it is built, so overriding `apiCall` covers them all.
 */
export class TimedWebClient extends WebClient {
  constructor(
    token: string,
    options: WebClientOptions,
    private readonly metrics: Metrics,
  ) {
    super(token, options);
  }

  override apiCall(method: string, options?: Record<string, unknown>): Promise<WebAPICallResult> {
    return timed(this.metrics, 'slack', method, () => super.apiCall(method, options));
  }
}
