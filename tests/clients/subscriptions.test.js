// Live updates through the clients people use: graphql-ws, Apollo Client's GraphQLWsLink,
// urql's subscriptionExchange (over WebSocket, graphql-transport-ws) and graphql-sse (over
// Server-Sent Events), each against the live server, with the token a reader needs.
//
// A subscription starts "now" when it has no `after`: to be told of a write made right after
// subscribing, whatever the timing, these subscribe `after` the log's last cursor, which
// replays what the live stream might not have caught yet (the contract says: no gap, no
// duplicate). productChanged has no cursor: its test writes until the subscription answers.
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import {
  GRAPHQL_URL,
  READ_AUTHORIZATION,
  READ_TOKEN,
  WS_URL,
  changesAfter,
  createProducts,
  logHead,
  write,
} from "./server.js";

const WAIT_MS = 10_000;

const CATALOG_CHANGES = `subscription ($after: String) {
  catalogChanges(after: $after) { cursor kind productId tagId product { name } }
}`;

const CREATE_PRODUCT = `mutation ($name: String!, $tags: [String!]) {
  createProduct(input: { name: $name, tagNames: $tags }) { product { id } }
}`;

const RENAME = `mutation ($id: ID!, $name: String!) {
  updateProduct(input: { id: $id, name: $name }) { product { id } }
}`;

function wsClient(options = {}) {
  return createWsClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${READ_TOKEN}` },
    retryAttempts: 3,
    ...options,
  });
}

/** The promise's value, or `fallback` once `ms` have passed (the timer never outlives it). */
async function within(promise, ms, fallback) {
  const timer = new AbortController();
  const late = delay(ms, fallback, { signal: timer.signal }).catch(() => fallback);
  try {
    return await Promise.race([promise, late]);
  } finally {
    timer.abort();
  }
}

const TIMED_OUT = Symbol("timed out");

/** Resolve with `count` values from the async iterator, or reject after `ms` with those seen. */
async function take(iterator, count, ms = WAIT_MS) {
  const values = [];
  const deadline = Date.now() + ms;
  while (values.length < count) {
    const next = await within(iterator.next(), deadline - Date.now(), TIMED_OUT);
    if (next === TIMED_OUT) {
      const seen = JSON.stringify(values);
      throw new Error(`${values.length} of ${count} results in ${ms} ms: ${seen}`);
    }
    if (next.done) throw new Error(`the stream ended after ${JSON.stringify(values)}`);
    values.push(next.value);
  }
  return values;
}

/** A subscription's results as an async iterator, from a subscribe(sink) → unsubscribe API. */
function queueOf(subscribe) {
  const results = [];
  const waiting = [];
  const push = (item) => (waiting.length ? waiting.shift()(item) : results.push(item));
  const stop = subscribe({
    next: (value) => push({ value, done: false }),
    error: (error) => push(Promise.reject(error)),
    complete: () => push({ value: undefined, done: true }),
  });
  return {
    next: () =>
      results.length ? Promise.resolve(results.shift()) : new Promise((r) => waiting.push(r)),
    return: async () => {
      stop();
      return { value: undefined, done: true };
    },
  };
}

/** The event's shape without its cursor and time: what the log says happened. */
const what = ({ kind, productId, tagId }) => ({ kind, productId, tagId });

describe("subscriptions", () => {
  let ids;
  const clients = [];

  before(async () => {
    ids = await createProducts({ Lamp: ["Light"], Mug: [] });
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
  });

  test("graphql-ws: catalogChanges tells what a mutation committed, in order", async () => {
    const client = wsClient();
    clients.push(client);
    const from = await logHead();
    const events = client.iterate({ query: CATALOG_CHANGES, variables: { after: from } });

    await write(CREATE_PRODUCT, { name: "Desk", tags: ["Office", "Light"] });
    const received = await take(events, 4);
    await events.return();

    const committed = await changesAfter(from);
    assert.equal(committed.length, 4, JSON.stringify(committed));
    assert.deepEqual(
      received.map((result) => result.data.catalogChanges.cursor),
      committed.map((change) => change.cursor),
    );
    assert.deepEqual(
      received.map((result) => what(result.data.catalogChanges)),
      committed.map(what),
    );
    const kinds = received.map((result) => result.data.catalogChanges.kind);
    assert.deepEqual(kinds.slice(0, 1), ["PRODUCT_CREATED"]);
    assert.deepEqual(kinds.filter((kind) => kind === "LINK_ADDED").length, 2);
    assert.equal(kinds.filter((kind) => kind === "TAG_CREATED").length, 1, "Light exists already");
    const desk = received[0].data.catalogChanges;
    assert.equal(desk.product.name, "Desk");
    const ofDesk = received.filter((result) => result.data.catalogChanges.kind !== "TAG_CREATED");
    assert.ok(ofDesk.every((result) => result.data.catalogChanges.productId === desk.productId));
  });

  test("graphql-ws: without a token, the socket is closed with 4403", async () => {
    const client = wsClient({ connectionParams: {}, retryAttempts: 0 });
    clients.push(client);
    const events = client.iterate({ query: CATALOG_CHANGES });

    await assert.rejects(take(events, 1), (error) => error.code === 4403);
  });

  test("Apollo Client: a productChanged event updates the normalised cache", async () => {
    const ws = wsClient();
    clients.push(ws);
    const link = ApolloLink.split(
      ({ query }) => {
        const main = getMainDefinition(query);
        return main.kind === "OperationDefinition" && main.operation === "subscription";
      },
      new GraphQLWsLink(ws),
      new HttpLink({ uri: GRAPHQL_URL, headers: READ_AUTHORIZATION }),
    );
    const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
    const fragment = gql`
      fragment LiveProduct on Product {
        id
        name
      }
    `;
    const product = gql`
      query LiveProduct($id: ID!) {
        product(id: $id) {
          ...LiveProduct
        }
      }
      ${fragment}
    `;
    await apollo.query({ query: product, variables: { id: ids.Mug } });
    const cacheId = apollo.cache.identify({ __typename: "Product", id: ids.Mug });
    assert.equal(apollo.readFragment({ id: cacheId, fragment }).name, "Mug");
    const events = queueOf((sink) => {
      const subscription = apollo
        .subscribe({
          query: gql`
            subscription ProductChanged($id: ID!) {
              productChanged(id: $id) {
                ...LiveProduct
              }
            }
            ${fragment}
          `,
          variables: { id: ids.Mug },
        })
        .subscribe(sink);
      return () => subscription.unsubscribe();
    });

    // productChanged starts now, with no cursor to replay from: rename until it is listening.
    const names = [];
    const first = events.next();
    let next = TIMED_OUT;
    for (let attempt = 0; attempt < 20 && next === TIMED_OUT; attempt += 1) {
      names.push(`Mug ${attempt + 1}`);
      await write(RENAME, { id: ids.Mug, name: names.at(-1) });
      next = await within(first, 500, TIMED_OUT);
    }
    await events.return();
    const event = next === TIMED_OUT ? undefined : next.value;

    assert.ok(event, `no productChanged event after ${names.length} renames`);
    const changed = event.data.productChanged;
    assert.equal(changed.id, ids.Mug);
    assert.ok(names.includes(changed.name), `${changed.name} is one of ${names}`);
    assert.equal(apollo.readFragment({ id: cacheId, fragment }).name, changed.name);
    const cached = apollo.readQuery({ query: product, variables: { id: ids.Mug } });
    assert.equal(cached.product.name, changed.name, "the query's result reads the new name");
  });

  test("urql: subscriptionExchange over graphql-ws receives a mutation's changes", async () => {
    const ws = wsClient();
    clients.push(ws);
    const urql = new Client({
      url: GRAPHQL_URL,
      fetchOptions: { headers: READ_AUTHORIZATION },
      exchanges: [
        cacheExchange,
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({
              unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink),
            }),
          }),
        }),
      ],
    });
    const from = await logHead();
    const events = queueOf((sink) => {
      const { unsubscribe } = urql
        .subscription(CATALOG_CHANGES, { after: from })
        .subscribe((result) => (result.error ? sink.error(result.error) : sink.next(result.data)));
      return unsubscribe;
    });

    await write(`mutation ($name: String!) { createTag(input: { name: $name }) { tag { id } } }`, {
      name: "Urql",
    });
    const [received] = await take(events, 1);
    await events.return();

    const [committed] = await changesAfter(from);
    assert.equal(committed.kind, "TAG_CREATED");
    assert.deepEqual(received.catalogChanges.cursor, committed.cursor);
    assert.deepEqual(what(received.catalogChanges), what(committed));
  });

  test("graphql-sse: catalogChanges over the event stream, and a query", async () => {
    const sse = createSseClient({
      url: GRAPHQL_URL,
      singleConnection: false,
      headers: READ_AUTHORIZATION,
    });
    clients.push(sse);
    const from = await logHead();
    const events = sse.iterate({ query: CATALOG_CHANGES, variables: { after: from } });

    await write(RENAME, { id: ids.Lamp, name: "Floor lamp" });
    const [received] = await take(events, 1);
    await events.return();
    const answers = sse.iterate({
      query: `query ($id: ID!) { product(id: $id) { name } }`,
      variables: { id: ids.Lamp },
    });
    const answer = await take(answers, 1);
    const end = await within(answers.next(), WAIT_MS, "no end");

    const [committed] = await changesAfter(from);
    assert.deepEqual(received.data.catalogChanges, {
      cursor: committed.cursor,
      kind: "PRODUCT_UPDATED",
      productId: ids.Lamp,
      tagId: null,
      product: { name: "Floor lamp" },
    });
    assert.deepEqual(answer, [{ data: { product: { name: "Floor lamp" } } }]);
    assert.deepEqual(end, { value: undefined, done: true }, "a query's stream completes");
  });

  test("graphql-sse: without a token, the event stream is refused", async () => {
    const sse = createSseClient({
      url: GRAPHQL_URL,
      singleConnection: false,
      retryAttempts: 0,
    });
    clients.push(sse);
    const events = sse.iterate({ query: CATALOG_CHANGES });

    await assert.rejects(take(events, 1), (error) => /401/.test(String(error?.message ?? error)));
  });

  test("resume: after the last cursor received, nothing is missed, nothing repeats", async () => {
    const client = wsClient();
    clients.push(client);
    const from = await logHead();
    const first = client.iterate({ query: CATALOG_CHANGES, variables: { after: from } });

    // Five changes (PRODUCT_CREATED, TAG_CREATED ×2, LINK_ADDED ×2); leave in the middle.
    await write(CREATE_PRODUCT, { name: "Shelf", tags: ["Wood", "Tall"] });
    const before = await take(first, 3);
    await first.return();
    const { createProduct } = await write(CREATE_PRODUCT, { name: "Stool", tags: ["Wood"] });
    await write(RENAME, { id: createProduct.product.id, name: "Bar stool" });
    const last = before.at(-1).data.catalogChanges.cursor;
    const second = client.iterate({ query: CATALOG_CHANGES, variables: { after: last } });
    const committed = await changesAfter(from);
    const rest = await take(second, committed.length - before.length);
    // One more write: its change must come next, so nothing else was pending in between.
    await write(RENAME, { id: createProduct.product.id, name: "Stool" });
    const [sentinel] = await take(second, 1);
    await second.return();

    const received = [...before, ...rest].map((result) => result.data.catalogChanges);
    assert.equal(committed.length, 8, JSON.stringify(committed));
    assert.deepEqual(
      received.map((change) => change.cursor),
      committed.map((change) => change.cursor),
    );
    assert.deepEqual(received.map(what), committed.map(what));
    assert.equal(new Set(received.map((change) => change.cursor)).size, received.length);
    const [next] = await changesAfter(committed.at(-1).cursor);
    assert.equal(sentinel.data.catalogChanges.cursor, next.cursor);
    assert.equal(sentinel.data.catalogChanges.kind, "PRODUCT_UPDATED");
  });
});
