// Where the server under test listens; test_clients.py starts it and sets these.
export const GRAPHQL_URL = process.env.CATALOG_GRAPHQL_URL;
export const WRITE_TOKEN = process.env.CATALOG_WRITE_TOKEN;

if (!GRAPHQL_URL) {
  throw new Error("CATALOG_GRAPHQL_URL is not set: run these through pytest (tests/e2e/test_clients.py)");
}
