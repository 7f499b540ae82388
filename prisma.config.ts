import { defineConfig } from "prisma/config";

// `prisma generate` does not connect; Migrate commands (where the schema engine can be downloaded)
// use DATABASE_URL. The placeholder keeps `generate` working without one.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/stepstone",
  },
});
