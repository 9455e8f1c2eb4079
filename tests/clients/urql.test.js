// urql against the live server: queries over GET, mutations over POST.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Client, cacheExchange, fetchExchange, gql } from "@urql/core";
import { AUTHORIZATION, GRAPHQL_URL, createProducts, recordingFetch } from "./server.js";

const PRODUCTS = gql`
  query UrqlProducts($first: Int) {
    products(first: $first) {
      totalCount
      nodes {
        id
        name
        tags {
          nodes {
            id
            name
          }
        }
      }
    }
  }
`;

const CREATE_TAG = gql`
  mutation UrqlCreateTag($name: String!) {
    createTag(input: { name: $name }) {
      tag {
        id
        name
      }
      userErrors {
        code
      }
    }
  }
`;

function client() {
  const recorder = recordingFetch();
  const urql = new Client({
    url: GRAPHQL_URL,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: "force",
    fetch: recorder.fetch,
    fetchOptions: { headers: AUTHORIZATION },
  });
  return { urql, requests: recorder.requests };
}

describe("urql", () => {
  before(async () => {
    await createProducts({ Lamp: ["Sale"], Mug: [] });
  });

  test("a query goes over GET and gets its data", async () => {
    const { urql, requests } = client();

    const result = await urql.query(PRODUCTS, { first: 10 }).toPromise();

    assert.equal(result.error, undefined);
    assert.equal(result.data.products.totalCount, 2);
    assert.deepEqual(
      result.data.products.nodes.map((p) => [p.name, p.tags.nodes.map((t) => t.name)]),
      [["Lamp", ["Sale"]], ["Mug", []]],
    );
    assert.deepEqual(requests.map((r) => r.method), ["GET"]);
    assert.ok(new URL(requests[0].url).searchParams.get("query").includes("UrqlProducts"));
  });

  test("a mutation goes over POST with the write token", async () => {
    const { urql, requests } = client();

    const result = await urql.mutation(CREATE_TAG, { name: "Office" }).toPromise();

    assert.equal(result.error, undefined);
    assert.equal(result.data.createTag.tag.name, "Office");
    assert.deepEqual(result.data.createTag.userErrors, []);
    assert.deepEqual(requests.map((r) => r.method), ["POST"]);
  });
});
