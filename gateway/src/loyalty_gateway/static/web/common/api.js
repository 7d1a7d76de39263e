// The GraphQL client both apps use: urql over HTTP for queries and mutations, graphql-ws
// for subscriptions, with the caller's token on every request.
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient as createSocket } from "graphql-ws";
import { useCallback, useEffect, useState } from "preact/hooks";

let client = null;
let url = null;

// The caller's credential as headers; none before sign-in (an anonymous caller reads only
// what anyone may, such as a tenant's branding for the sign-in page). `scheme` names the
// credential's kind: "Bearer" for a token (the default), "ApiKey" for an API key (the
// console accepts a clearing partner's key).
function credential(value, scheme) {
  return value ? { authorization: `${scheme} ${value}` } : {};
}

export function connect(endpoint, token, { scheme = () => "Bearer" } = {}) {
  url = endpoint;
  const socketUrl = new URL(endpoint, location.href);
  socketUrl.protocol = socketUrl.protocol === "https:" ? "wss:" : "ws:";
  const socket = createSocket({
    url: socketUrl.href,
    lazy: true,
    connectionParams: () => credential(token(), scheme()),
  });
  client = new Client({
    url: endpoint,
    requestPolicy: "network-only",
    fetchOptions: () => ({ headers: credential(token(), scheme()) }),
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    ],
  });
}

// A client for a public key's calls before anyone signs in (the onboarding module's
// enrolment and one-time-code sign-in): the key names the tenant.
export async function mutateWithKey(apiKey, document, variables = {}) {
  const keyed = new Client({
    url,
    requestPolicy: "network-only",
    fetchOptions: { headers: { "x-api-key": apiKey } },
    exchanges: [fetchExchange],
  });
  const data = unwrap(await keyed.mutation(document, variables).toPromise());
  return Object.values(data)[0];
}

export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code ?? errors[0]?.code;
  }
}

function unwrap(result) {
  if (result.error) {
    const errors = result.error.graphQLErrors?.length
      ? result.error.graphQLErrors
      : [{ message: result.error.message }];
    throw new ApiError(errors);
  }
  return result.data;
}

export async function query(document, variables = {}) {
  return unwrap(await client.query(document, variables).toPromise());
}

// A mutation's payload (`{ errors { code field message } ... }`): its user errors are
// returned for the form to show, not thrown.
export async function mutate(document, variables = {}) {
  const data = unwrap(await client.mutation(document, variables).toPromise());
  return Object.values(data)[0];
}

export function subscribe(document, variables, onData) {
  const { unsubscribe } = client.subscription(document, variables).subscribe((result) => {
    if (result.data) onData(result.data);
  });
  return unsubscribe;
}

// A query's state in a component: { data, error, loading, reload }. It runs again when the
// document or variables change; with `skip` (a section of a module the tenant did not
// enable, whose fields its schema does not have) it runs not at all.
export function useQuery(document, variables = {}, { skip = false } = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: !skip });
  const key = JSON.stringify(variables);
  const load = useCallback(async () => {
    if (skip) return;
    setState((s) => ({ ...s, loading: true }));
    try {
      setState({ data: await query(document, variables), error: null, loading: false });
    } catch (error) {
      setState({ data: null, error, loading: false });
    }
  }, [document, key, skip]);
  useEffect(() => {
    load();
  }, [load]);
  return { ...state, reload: load };
}
