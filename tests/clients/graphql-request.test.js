// graphql-request against the live server: variables, a write, and errors with their codes.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ClientError, GraphQLClient, gql } from "graphql-request";
import { AUTHORIZATION, GRAPHQL_URL, createProducts } from "./server.js";

const PRODUCT = gql`
  query RequestProduct($id: ID!) {
    product(id: $id) {
      name
      tags {
        edges {
          priority
          node {
            name
          }
        }
      }
    }
  }
`;

const ADD_TAGS = gql`
  mutation RequestAddTags($id: ID!) {
    addTags(input: { productId: $id, tagNames: ["New"], priority: 5 }) {
      added {
        name
      }
      userErrors {
        code
      }
    }
  }
`;

describe("graphql-request", () => {
  let ids;

  before(async () => {
    ids = await createProducts({ Lamp: ["Sale"] });
  });

  test("a query with variables gets its data", async () => {
    const client = new GraphQLClient(GRAPHQL_URL);

    const data = await client.request(PRODUCT, { id: ids.Lamp });

    assert.deepEqual(data, {
      product: { name: "Lamp", tags: { edges: [{ priority: 0, node: { name: "Sale" } }] } },
    });
  });

  test("a mutation with the write token changes the product", async () => {
    const client = new GraphQLClient(GRAPHQL_URL, { headers: AUTHORIZATION });

    const data = await client.request(ADD_TAGS, { id: ids.Lamp });
    const after = await client.request(PRODUCT, { id: ids.Lamp });

    assert.deepEqual(data.addTags, { added: [{ name: "New" }], userErrors: [] });
    assert.deepEqual(
      after.product.tags.edges.map((e) => [e.node.name, e.priority]),
      [["New", 5], ["Sale", 0]],
    );
  });

  test("a mutation without a token is refused with UNAUTHENTICATED", async () => {
    const client = new GraphQLClient(GRAPHQL_URL);

    await assert.rejects(client.request(ADD_TAGS, { id: ids.Lamp }), (error) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.response.status, 401);
      assert.equal(error.response.errors[0].extensions.code, "UNAUTHENTICATED");
      return true;
    });
  });

  test("a validation error comes back with its code", async () => {
    const client = new GraphQLClient(GRAPHQL_URL);

    await assert.rejects(client.request("{ products { nodes { price } } }"), (error) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.response.errors[0].extensions.code, "GRAPHQL_VALIDATION_FAILED");
      return true;
    });
  });
});
