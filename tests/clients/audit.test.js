// The GraphQL-over-HTTP audit of the graphql-http package against the live server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { auditServer } from "graphql-http";
import { GRAPHQL_URL } from "./server.js";

const LEVELS = ["MUST", "SHOULD", "MAY"];

test("every MUST and every SHOULD of the GraphQL-over-HTTP audit passes", async (t) => {
  const results = await auditServer({ url: GRAPHQL_URL });
  const figures = LEVELS.map((level) => {
    const ofLevel = results.filter((r) => r.name.startsWith(level));
    const passed = ofLevel.filter((r) => r.status === "ok").length;
    return `${level}: ${passed}/${ofLevel.length}`;
  });
  t.diagnostic(`audit ${figures.join(", ")}`);
  const failures = results.filter((r) => r.status !== "ok" && !r.name.startsWith("MAY"));
  assert.deepEqual(
    failures.map((r) => `${r.id} ${r.name}: ${r.reason}`),
    [],
    `audit ${figures.join(", ")}`,
  );
});
