// The live server under test: tests/e2e/test_clients.py starts it and sets these variables.
export const GRAPHQL_URL = process.env.CATALOG_GRAPHQL_URL;
export const WRITE_TOKEN = process.env.CATALOG_WRITE_TOKEN;
// Set when the server needs a token to read (CATALOG_READ_TOKENS); the write token reads too.
export const READ_TOKEN = process.env.CATALOG_READ_TOKEN ?? WRITE_TOKEN;

if (!GRAPHQL_URL || !WRITE_TOKEN) {
  throw new Error(
    "CATALOG_GRAPHQL_URL and CATALOG_WRITE_TOKEN are not set: run these through pytest " +
      "(tests/e2e/test_clients.py)",
  );
}

export const AUTHORIZATION = { authorization: `Bearer ${WRITE_TOKEN}` };
export const READ_AUTHORIZATION = { authorization: `Bearer ${READ_TOKEN}` };

/** The same endpoint for WebSocket clients (graphql-transport-ws). */
export const WS_URL = GRAPHQL_URL?.replace(/^http/, "ws");

/** POST one operation with the write token; it must succeed without GraphQL errors. */
export async function write(query, variables = {}) {
  const response = await fetch(GRAPHQL_URL, {
    method: "POST",
    headers: { "content-type": "application/json", ...AUTHORIZATION },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.errors) {
    throw new Error(`setup failed: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.data;
}

const CREATE_PRODUCT = `mutation ($name: String!, $tags: [String!]) {
  createProduct(input: { name: $name, tagNames: $tags }) { product { id } userErrors { code } }
}`;

/** Products named after `tagsByName`'s keys, each tagged with its list; their ids by name. */
export async function createProducts(tagsByName) {
  const ids = {};
  for (const [name, tags] of Object.entries(tagsByName)) {
    const data = await write(CREATE_PRODUCT, { name, tags });
    ids[name] = data.createProduct.product.id;
  }
  return ids;
}

/** A fetch that records each request (method, URL and body) before sending it. */
export function recordingFetch() {
  const requests = [];
  const recorded = async (url, init = {}) => {
    requests.push({ method: init.method ?? "GET", url: String(url), body: init.body ?? null });
    return fetch(url, init);
  };
  return { fetch: recorded, requests };
}

const CHANGES = `query ($after: String) {
  changes(after: $after, first: 100) {
    edges { cursor node { kind productId tagId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The change log after `after` (from its start without one), oldest first, every page. */
export async function changesAfter(after = null) {
  const changes = [];
  for (let cursor = after, page = 0; page < 100; page += 1) {
    const data = await write(CHANGES, { after: cursor });
    for (const edge of data.changes.edges) changes.push({ cursor: edge.cursor, ...edge.node });
    if (!data.changes.pageInfo.hasNextPage) return changes;
    cursor = data.changes.pageInfo.endCursor;
  }
  throw new Error("the change log has more than 100 pages");
}

/** The cursor of the log's last change: subscribe `after` it to miss nothing from now on. */
export async function logHead() {
  const changes = await changesAfter();
  if (changes.length === 0) throw new Error("the change log is empty: write something first");
  return changes.at(-1).cursor;
}
