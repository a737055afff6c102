/**
 * Kubernetes manifests for tests: validation against Kubernetes' schemas (kubernetes-models, which generates its
 * validators from Kubernetes' OpenAPI documents), and a deliberately small kustomize. kustomize is not installed here,
 * so renderKustomization applies the fields infrastructure/kubernetes/kustomization.yaml uses, with kustomize's
 * meaning: `resources` (files, in order), `namespace` (set on every namespaced object) and `images` (`name` matched
 * against the image without its tag or digest, replaced by `newName`, `newTag`). Any other field is refused, so the
 * render can never silently drop something kustomize would have done.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { parse, parseAllDocuments } from "yaml";

export const KUBERNETES_DIR = fileURLToPath(new URL("../../infrastructure/kubernetes/", import.meta.url));

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The kinds the fleet's manifests use, with the model that validates each. */
const MODELS: Record<string, { validate(data: unknown): void }> = {
  "v1/Namespace": { validate: (data) => new Namespace(data as never).validate() },
  "v1/ConfigMap": { validate: (data) => new ConfigMap(data as never).validate() },
  "v1/Secret": { validate: (data) => new Secret(data as never).validate() },
  "apps/v1/DaemonSet": { validate: (data) => new DaemonSet(data as never).validate() },
};
const CLUSTER_SCOPED = new Set(["v1/Namespace"]);

/** Throws when the manifest does not satisfy Kubernetes' schema for its apiVersion and kind. */
export function validateManifest(manifest: Manifest): void {
  const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind} in this test`);
  model.validate(manifest);
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const SUPPORTED = new Set(["apiVersion", "kind", "namespace", "resources", "images"]);

/** kustomize build of `dir`, for the fields above; `override` replaces fields of the file (to test refusals). */
export function renderKustomization(dir: string, override: Record<string, unknown> = {}): Manifest[] {
  const file = { ...(parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as object), ...override };
  const unsupported = Object.keys(file).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`kustomization fields this renderer does not implement: ${unsupported}`);
  const kustomization = file as Kustomization;
  if (kustomization.apiVersion !== "kustomize.config.k8s.io/v1beta1" || kustomization.kind !== "Kustomization") {
    throw new Error("not a kustomize.config.k8s.io/v1beta1 Kustomization");
  }
  const manifests = (kustomization.resources ?? []).flatMap((resource) =>
    parseAllDocuments(readFileSync(join(dir, resource), "utf8")).map((document) => document.toJS() as Manifest),
  );
  return manifests.map((manifest) => {
    const out = structuredClone(manifest);
    if (kustomization.namespace && !CLUSTER_SCOPED.has(`${out.apiVersion}/${out.kind}`)) {
      out.metadata.namespace = kustomization.namespace;
    }
    for (const container of containers(out))
      container.image = replaceImage(container.image, kustomization.images ?? []);
    return out;
  });
}

/** The containers and init containers of a workload's pod template. */
function containers(manifest: Manifest): { image: string }[] {
  const pod = (manifest.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec;
  if (!pod) return [];
  return [...((pod.containers as { image: string }[]) ?? []), ...((pod.initContainers as { image: string }[]) ?? [])];
}

function replaceImage(image: string, images: NonNullable<Kustomization["images"]>): string {
  const match = /^(?<name>[^@]+?)(?::(?<tag>[^:/@]+))?(?:@(?<digest>.+))?$/.exec(image);
  const name = match?.groups?.name ?? image;
  const rule = images.find((candidate) => candidate.name === name);
  if (!rule) return image;
  const tag = rule.newTag ?? match?.groups?.tag;
  return `${rule.newName ?? name}${tag ? `:${tag}` : ""}`;
}
