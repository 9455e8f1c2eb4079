// PostGraphile 5 as the bench's peer: the Amber preset over the catalog's tables, with
// the junction exposed as a many-to-many (product.tags with the link's own columns on
// each edge). The bench starts it with DATABASE_URL and PORT in the environment.
import { PgManyToManyPreset } from "@graphile-contrib/pg-many-to-many";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgManyToManyPreset],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] }),
  ],
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT), graphiql: false },
  grafast: { explain: false },
};

export default preset;
