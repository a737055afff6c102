/**
 * One coturn version everywhere: the tests run the build of scripts/coturn-build.sh, and `turnserver --version` of
 * that build must be the version the image pins (`ARG COTURN_VERSION` in infrastructure/coturn/Dockerfile), which
 * docker-compose.yml, the kustomization and the DaemonSet tag the image with too. The build script refuses source
 * that is not the release.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { coturnProgram, requireCoturn } from "../support/coturn-build";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), "utf8");
const dockerfile = read("infrastructure/coturn/Dockerfile");
const pinned = /^ARG COTURN_VERSION=(\d+\.\d+\.\d+)$/m.exec(dockerfile)?.[1];

describe("the coturn version the fleet pins", () => {
  it("is pinned once in the Dockerfile, as the ARG its only FROM uses", () => {
    expect(pinned).toBe("4.17.1");
    const froms = dockerfile.split("\n").filter((line) => /^FROM\s/.test(line));
    expect(froms).toEqual(["FROM coturn/coturn:${COTURN_VERSION}"]);
    expect(dockerfile.search(/^ARG COTURN_VERSION=/m)).toBeLessThan(dockerfile.search(/^FROM /m));
  });

  it("tags the image with the same version in docker-compose.yml, the kustomization and the DaemonSet", () => {
    const compose = parse(read("infrastructure/coturn/docker-compose.yml")) as {
      services: { coturn: { image: string } };
    };
    expect(compose.services.coturn.image).toBe(`icegate-coturn:${pinned}`);
    const kustomization = parse(read("infrastructure/kubernetes/kustomization.yaml")) as {
      images: { name: string; newTag: string }[];
    };
    expect(kustomization.images).toEqual([expect.objectContaining({ name: "icegate-coturn", newTag: pinned })]);
    const daemonset = parse(read("infrastructure/kubernetes/daemonset.yaml")) as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(daemonset.spec.template.spec.containers.map((container) => container.image)).toEqual([
      `icegate-coturn:${pinned}`,
    ]);
    expect(read("infrastructure/kubernetes/README.md")).toContain(`registry.example.com/icegate/coturn:${pinned}`);
  });

  it("has the checksum of its release source committed, for the build script", () => {
    expect(read("scripts/coturn-source.sha256")).toMatch(new RegExp(`^[0-9a-f]{64}  coturn-${pinned}\\.tar$`, "m"));
  });

  const built = requireCoturn();
  it.skipIf(!built)("is the version of the coturn the tests run (turnserver --version of the build)", () => {
    const run = spawnSync(coturnProgram("turnserver"), ["--version"], { encoding: "utf8", timeout: 15_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(pinned);
  });
});

describe("scripts/coturn-build.sh refuses source that is not the release", () => {
  const dir = mkdtempSync(join(tmpdir(), "icegate-coturn-source-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the build script with `env`, in a cache of its own so nothing real is touched. */
  function build(env: Record<string, string>) {
    return spawnSync("bash", [join(PROJECT_ROOT, "scripts/coturn-build.sh")], {
      env: { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, "cache"), ...env },
      encoding: "utf8",
      timeout: 30_000,
    });
  }

  /** An xz tarball shaped like the release (coturn-X/ at the top) with other content. */
  function forgedTarball(): string {
    const source = join(dir, `coturn-${pinned}`);
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, "configure"), "#!/bin/sh\necho not coturn\n");
    const tarball = join(dir, `coturn-${pinned}.tar.xz`);
    const tar = spawnSync("sh", ["-c", `tar -C "${dir}" -cf - coturn-${pinned} | xz -9 > "${tarball}"`]);
    expect(tar.status).toBe(0);
    return tarball;
  }

  it("fails on a tarball whose content differs from the release, before building anything", () => {
    const run = build({ COTURN_TARBALL: forgedTarball() });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/is not the release: tar checksum [0-9a-f]{64}/);
    expect(run.stdout).toBe("");
  });

  it("fails on a tarball that does not match the SHA256SUMS beside it", () => {
    const tarball = forgedTarball();
    writeFileSync(join(dir, "SHA256SUMS"), `${"0".repeat(64)}  coturn-${pinned}.tar.xz\n`);
    const run = build({ COTURN_TARBALL: tarball });
    rmSync(join(dir, "SHA256SUMS"));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/checksum mismatch/);
  });
});
