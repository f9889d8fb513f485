// A partner bank for gosid's tests: the real npm oidc-provider, with bank
// customers carrying the identity claims a bank vouches for.
//
// Protocol with the Go test (federation/banktest): the bank listens on a
// free loopback port and prints {"issuer": ...} on stdout; the test then
// writes one JSON line on stdin — the client, the customers, the claim
// names — and the bank prints {"ready": true}. Sign-in at the bank has no
// form: GET <issuer>/__test/next?account=<id>&refuse=1 chooses who signs
// in next (or that the citizen cancels), and the interaction completes at
// once.
import http from 'node:http';
import readline from 'node:readline';
import Provider from 'oidc-provider';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
process.stdout.write(JSON.stringify({ issuer }) + '\n');

const rl = readline.createInterface({ input: process.stdin });
const line = await new Promise((resolve) => rl.once('line', resolve));
const cfg = JSON.parse(line);

const customers = cfg.customers; // id -> claims (claim names as this bank spells them)
const claimNames = [...new Set(Object.values(customers).flatMap((c) => Object.keys(c)))];
let next = { account: Object.keys(customers)[0], refuse: false };

const client = {
  client_id: cfg.client_id,
  redirect_uris: [cfg.redirect_uri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
};
if (cfg.jwks) {
  client.token_endpoint_auth_method = 'private_key_jwt';
  client.jwks = cfg.jwks;
} else {
  client.client_secret = cfg.client_secret;
  client.token_endpoint_auth_method = 'client_secret_basic';
}

const provider = new Provider(issuer, {
  clients: [client],
  findAccount: async (ctx, sub) => customers[sub] && {
    accountId: sub,
    claims: async () => ({ sub, ...customers[sub] }),
  },
  claims: { acr: null, amr: null, auth_time: null, openid: ['sub', 'amr'], bank_identity: claimNames },
  scopes: ['openid', 'bank_identity'],
  acrValues: ['urn:bank:loa:high'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['gosid-test-bank'] },
  clientAuthMethods: ['client_secret_basic', 'private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256'] },
});
provider.proxy = false;
const callback = provider.callback();

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (next.refuse) {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the customer cancelled' });
  }
  if (details.prompt.name === 'login') {
    return provider.interactionFinished(req, res, {
      login: { accountId: next.account, acr: 'urn:bank:loa:high', amr: ['pwd', 'otp', 'mfa'] },
    }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope('openid bank_identity');
  return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

server.on('request', (req, res) => {
  const u = new URL(req.url, issuer);
  if (u.pathname === '/__test/next') {
    next = { account: u.searchParams.get('account') || next.account, refuse: u.searchParams.get('refuse') === '1' };
    res.writeHead(204).end();
    return;
  }
  if (u.pathname.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    });
    return;
  }
  callback(req, res);
});

process.stdout.write(JSON.stringify({ ready: true }) + '\n');
process.stdin.on('end', () => process.exit(0));
