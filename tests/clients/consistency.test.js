// Read your writes through a read replica whose replay is paused (the server and the pause
// are set up by tests/replicas/test_clients.py): each client library is given a fetch that
// sends back the consistency token of the latest response that carried one, so a read that
// follows a mutation sees it, while a read without the token is answered by the replica.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { Client, fetchExchange } from "@urql/core";
import { GraphQLClient } from "graphql-request";
import { AUTHORIZATION, GRAPHQL_URL } from "./server.js";

const CONSISTENCY = "catalog-consistency-token";

const CREATE_TAG = `mutation CreateTag($name: String!) {
  createTag(input: { name: $name }) { tag { id name } }
}`;
const TAG = `query Tag($name: String!) { tag(name: $name) { id name } }`;

/** A fetch that sends back the consistency token of the latest response that had one. */
function consistentFetch() {
  let token = null;
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    if (token) headers.set(CONSISTENCY, token);
    const response = await fetch(url, { ...init, headers });
    token = response.headers.get(CONSISTENCY) ?? token;
    return response;
  };
}

/** The tag as a client without the token sees it: from the paused replica. */
async function tagWithoutToken(name) {
  const response = await fetch(GRAPHQL_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: TAG, variables: { name } }),
  });
  return (await response.json()).data.tag;
}

describe("read your writes through a lagging replica", () => {
  test("Apollo Client", async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: GRAPHQL_URL, headers: AUTHORIZATION, fetch: consistentFetch() }),
      cache: new InMemoryCache(),
    });
    await client.mutate({ mutation: gql(CREATE_TAG), variables: { name: "Apollo" } });

    assert.equal(await tagWithoutToken("Apollo"), null);
    const { data } = await client.query({
      query: gql(TAG),
      variables: { name: "Apollo" },
      fetchPolicy: "network-only",
    });
    assert.equal(data.tag.name, "Apollo");
  });

  test("urql", async () => {
    const client = new Client({
      url: GRAPHQL_URL,
      exchanges: [fetchExchange],
      fetch: consistentFetch(),
      fetchOptions: { headers: AUTHORIZATION },
    });
    const created = await client.mutation(CREATE_TAG, { name: "Urql" }).toPromise();
    assert.equal(created.error, undefined);

    assert.equal(await tagWithoutToken("Urql"), null);
    const read = await client.query(TAG, { name: "Urql" }).toPromise();
    assert.equal(read.data.tag.name, "Urql");
  });

  test("graphql-request", async () => {
    const client = new GraphQLClient(GRAPHQL_URL, {
      headers: AUTHORIZATION,
      fetch: consistentFetch(),
    });
    await client.request(CREATE_TAG, { name: "Request" });

    assert.equal(await tagWithoutToken("Request"), null);
    const read = await client.request(TAG, { name: "Request" });
    assert.equal(read.tag.name, "Request");
  });
});
