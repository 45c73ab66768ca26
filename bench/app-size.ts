// Prints the size of the sample service's runtime image against the single-stage build of the same
// app (test/fixtures/apps/single-stage), with the biggest layers of each. Needs `npx portcullis lab up`.
// Usage: node --import tsx bench/app-size.ts
import { appDir, buildImage, docker, fixtureDir, imageSize, megabytes, requireLabImage, tail } from "../test/app/images.js";

const images = [
  { name: "runtime (multi-stage)", tag: "portcullis-test/advisory-api:runtime", context: appDir },
  { name: "single-stage", tag: "portcullis-test/advisory-api:single-stage", context: fixtureDir("single-stage") },
];

async function main(): Promise<number> {
  await requireLabImage("python:3.11-slim");
  const base = await imageSize("python:3.11-slim");
  const sizes: number[] = [];
  for (const image of images) {
    process.stdout.write(`building ${image.name} (${image.tag}) … `);
    const build = await buildImage(image.context, image.tag);
    if (build.code !== 0) {
      console.error(`\nbuild of ${image.context} failed (exit ${build.code}):\n${tail(build.stdout + build.stderr)}`);
      return 2;
    }
    console.log(`${(build.ms / 1000).toFixed(1)} s`);
    sizes.push(await imageSize(image.tag));
  }
  console.log(`\nbase python:3.11-slim        ${String(base).padStart(12)} B  ${megabytes(base)}`);
  images.forEach((image, i) => console.log(`${image.name.padEnd(28)} ${String(sizes[i]).padStart(12)} B  ${megabytes(sizes[i]!)}`));
  const ratio = sizes[0]! / sizes[1]!;
  console.log(`runtime / single-stage = ${ratio.toFixed(3)} (target ≤ 0.5), saving ${megabytes(sizes[1]! - sizes[0]!)}`);

  for (const image of images) {
    const history = await docker(["history", "--no-trunc", "--format", "{{.Size}}\t{{json .CreatedBy}}", image.tag]);
    const layers = history.stdout.trim().split("\n").filter((line) => !line.startsWith("0B"));
    console.log(`\nlayers of ${image.name} (non-empty, newest first):`);
    for (const line of layers.slice(0, 8)) {
      const [size, createdByJson] = line.split("\t");
      const createdBy = (JSON.parse(createdByJson ?? '""') as string) || "(imported base layer)";
      console.log(`  ${size!.padStart(8)}  ${createdBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, "").replace(/\s+/g, " ").slice(0, 100)}`);
    }
  }
  return ratio <= 0.5 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`app-size: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
