/**
 * icegate/client: the browser SDK for icegate's `GET /api/turn/credentials`. No dependencies.
 *
 *   const ice = createIceServerClient({ endpoint: "/api/turn/credentials", getToken });
 *   const pc = new RTCPeerConnection({ iceServers: await ice.getIceServers() });
 *   const stop = ice.keepFresh(pc, { onRestart: (reason) => console.log("ICE restart:", reason) });
 */
export { createIceServerClient } from "./client";
export { IceServerError } from "./errors";
export type {
  CredentialsResponse,
  FetchLike,
  IceServer,
  IceServerClient,
  IceServerClientOptions,
  KeepFreshOptions,
  PeerConfiguration,
  PeerConnectionLike,
  PeerEventLike,
  ResponseLike,
  RestartReason,
  StatsEntry,
  TokenResult,
} from "./types";
