/**
 * The SDK declares its own structural WebRTC and fetch types so that it needs no DOM library.
 * These assertions, checked by `tsc -p tsconfig.node.json` (which has the DOM library), prove that
 * the real browser objects fit them, and that what the SDK returns fits `new RTCPeerConnection`.
 */
import { describe, expectTypeOf, it } from "vitest";
import type {
  FetchLike,
  IceServer,
  IceServerClient,
  IceServerClientOptions,
  IceServerError,
  PeerConnectionLike,
} from "../../src/client";

describe("the SDK's types against the DOM library", () => {
  it("accepts a real RTCPeerConnection in keepFresh", () => {
    expectTypeOf<RTCPeerConnection>().toExtend<PeerConnectionLike>();
    expectTypeOf<IceServerClient["keepFresh"]>().parameter(0).toExtend<PeerConnectionLike>();
  });

  it("returns servers that RTCPeerConnection's configuration accepts", () => {
    expectTypeOf<IceServer>().toExtend<RTCIceServer>();
    expectTypeOf<RTCIceServer>().toExtend<IceServer>();
    expectTypeOf<{ iceServers: Awaited<ReturnType<IceServerClient["getIceServers"]>> }>().toExtend<RTCConfiguration>();
  });

  it("accepts the global fetch", () => {
    expectTypeOf<typeof globalThis.fetch>().toExtend<FetchLike>();
  });

  it("passes onError an IceServerError, with the fields the README's example reads", () => {
    expectTypeOf<NonNullable<IceServerClientOptions["onError"]>>().parameter(0).toEqualTypeOf<IceServerError>();
    expectTypeOf<IceServerError["status"]>().toEqualTypeOf<number>();
    expectTypeOf<IceServerError["code"]>().toEqualTypeOf<string>();
    expectTypeOf<IceServerError["retryAfterSeconds"]>().toEqualTypeOf<number | undefined>();
  });
});
