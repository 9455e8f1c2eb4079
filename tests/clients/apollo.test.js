// Apollo Client against the live server: a normalised cache, relay-style pages merged,
// mutation payloads updating the cache, and automatic persisted queries.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, test } from "node:test";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { relayStylePagination } from "@apollo/client/utilities";
import { AUTHORIZATION, GRAPHQL_URL, createProducts, recordingFetch } from "./server.js";

const PRODUCTS = gql`
  query Products($first: Int, $after: String) {
    products(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          name
          tags {
            edges {
              priority
              node {
                id
                name
              }
            }
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

const PRODUCT = gql`
  query Product($id: ID!) {
    product(id: $id) {
      id
      name
    }
  }
`;

const RENAME = gql`
  mutation Rename($id: ID!, $name: String!) {
    updateProduct(input: { id: $id, name: $name }) {
      product {
        id
        name
      }
      userErrors {
        code
      }
    }
  }
`;

function client({ link, typePolicies } = {}) {
  return new ApolloClient({
    link: link ?? new HttpLink({ uri: GRAPHQL_URL, headers: AUTHORIZATION }),
    cache: new InMemoryCache({ typePolicies }),
  });
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

describe("Apollo Client", () => {
  let ids;

  before(async () => {
    ids = await createProducts({
      Lamp: ["Sale", "Light"],
      Mug: ["Sale"],
      Desk: ["Office"],
      Chair: ["Office", "Sale"],
      Shelf: [],
    });
  });

  test("InMemoryCache normalises Product and Tag by id", async () => {
    const apollo = client();

    const { data } = await apollo.query({ query: PRODUCTS, variables: { first: 10 } });

    const cached = apollo.cache.extract();
    const lamp = data.products.edges.find((e) => e.node.name === "Lamp").node;
    const mug = data.products.edges.find((e) => e.node.name === "Mug").node;
    const saleOf = (p) => p.tags.edges.find((e) => e.node.name === "Sale").node;
    assert.equal(saleOf(lamp).id, saleOf(mug).id);
    assert.ok(cached[`Product:${ids.Lamp}`], "Lamp is stored once, under its id");
    const tagKeys = Object.keys(cached).filter((k) => k.startsWith("Tag:"));
    assert.equal(tagKeys.length, 3, `one entry per tag (Sale, Light, Office): ${tagKeys}`);
    assert.equal(cached[`Tag:${saleOf(lamp).id}`].name, "Sale");
  });

  test("relayStylePagination merges the pages of products", async () => {
    const apollo = client({
      typePolicies: { Query: { fields: { products: relayStylePagination() } } },
    });
    const first = await apollo.query({ query: PRODUCTS, variables: { first: 2 } });
    let { pageInfo } = first.data.products;

    for (let page = 0; pageInfo.hasNextPage && page < 5; page += 1) {
      const more = await apollo.query({
        query: PRODUCTS,
        variables: { first: 2, after: pageInfo.endCursor },
        fetchPolicy: "network-only",
      });
      pageInfo = more.data.products.pageInfo;
    }
    const merged = apollo.readQuery({ query: PRODUCTS, variables: { first: 2 } });

    assert.deepEqual(
      merged.products.edges.map((e) => e.node.name),
      ["Lamp", "Mug", "Desk", "Chair", "Shelf"],
    );
    assert.equal(merged.products.pageInfo.hasNextPage, false);
  });

  test("a mutation payload updates the cached product", async () => {
    const apollo = client();
    await apollo.query({ query: PRODUCT, variables: { id: ids.Shelf } });

    await apollo.mutate({ mutation: RENAME, variables: { id: ids.Shelf, name: "Bookshelf" } });

    const cached = apollo.readQuery({ query: PRODUCT, variables: { id: ids.Shelf } });
    assert.equal(cached.product.name, "Bookshelf");
  });

  for (const useGET of [false, true]) {
    test(`createPersistedQueryLink registers, then sends hashes only (${useGET ? "GET" : "POST"})`, async () => {
      const { fetch, requests } = recordingFetch();
      const link = () =>
        ApolloLink.from([
          new PersistedQueryLink({ sha256, useGETForHashedQueries: useGET }),
          new HttpLink({ uri: GRAPHQL_URL, fetch }),
        ]);
      const query = gql`
        query PersistedNames${useGET ? "Get" : "Post"} {
          products(first: 3) {
            nodes {
              id
              name
            }
          }
        }
      `;

      const first = await client({ link: link() }).query({ query });
      const again = await client({ link: link() }).query({ query });

      const names = ["Lamp", "Mug", "Desk"];
      assert.deepEqual(first.data.products.nodes.map((p) => p.name), names);
      assert.deepEqual(again.data.products.nodes.map((p) => p.name), names);
      // Hash alone (not found), hash with query (registers), then the hash alone runs.
      const sent = requests.map((r) => ({
        method: r.method,
        query: r.body ? "query" in JSON.parse(r.body) : new URL(r.url).searchParams.has("query"),
      }));
      const hashMethod = useGET ? "GET" : "POST";
      assert.deepEqual(sent, [
        { method: hashMethod, query: false },
        { method: "POST", query: true },
        { method: hashMethod, query: false },
      ]);
    });
  }
});
