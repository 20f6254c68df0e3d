// The webhook form's fields as a business owner reads them: the seed's own labels ("Webhook
// Uri", "Webhook Secret") and the API's messages in plain words. The API's own text stays
// available behind "Technical detail" (see technicalDetail in ui/errors.ts).
import type { FormWords } from '../ui/errors';
import { describeFilterPath } from '../filters/filterModel';

const LABELS: Record<string, string> = {
  topic: 'Event',
  url: 'Webhook Uri',
  secret: 'Webhook Secret',
  prefix: 'Topic Prefix',
  filter: 'Filters',
  headers: 'Extra request headers',
  description: 'Description',
  enabled: 'Enabled',
};

/** Messages of the URL check (src/delivery/target-guard.ts) that a business owner cannot act on as written. */
function explainUrl(message: string): string {
  if (/HERALD_ALLOW_PRIVATE_TARGETS|loopback|private|link-local|unspecified|reserved|multicast|broadcast/i.test(message)) {
    return 'This address points to this computer or to a private network, which Herald does not send webhooks to. Use an address that can be reached from the internet, such as https://example.com/webhooks.';
  }
  if (message === 'host does not resolve') return 'No server was found at this address. Check the spelling of the part after https://.';
  if (message === 'not an absolute URL') return 'Enter the whole address, starting with https://, such as https://example.com/webhooks.';
  if (/^scheme must be http or https/.test(message)) return 'The address must start with https:// (or http://).';
  if (/credentials/.test(message)) return 'Leave the user name and password out of the address; use the Webhook Secret to prove the webhook is yours.';
  return message;
}

function explain(field: string, rest: string, message: string): string {
  switch (field) {
    case 'url':
      return explainUrl(message);
    case 'topic':
      return 'Choose one of the events in the list.';
    case 'prefix':
      return /64 characters/.test(message) ? 'Use at most 64 characters: letters, digits and _ . : -' : message;
    case 'filter': {
      const where = describeFilterPath(rest);
      return where ? `${where}: ${message}` : message;
    }
    case 'headers': {
      const text = /set by Herald|hop-by-hop/.test(message) ? 'is set by Herald itself and cannot be changed' : message;
      return rest ? `${rest} ${text}` : text;
    }
    default:
      return rest ? `${rest}: ${message}` : message;
  }
}

export const WEBHOOK_WORDS: FormWords = { labels: LABELS, explain };
