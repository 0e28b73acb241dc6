// The verifier that trusts no server: reads a document and checks it against a node's JSON-RPC.
import { readDocument } from "./documents.js";
import { verifyBundle } from "./bundle.js";
import { verifyTimeline } from "./timeline.js";
import { CannotReadError } from "./json.js";
import { NodeUnreachableError, Rpc } from "./rpc.js";

export { CannotReadError, NodeUnreachableError };

/** The verdict of the document in `text` against the node at `rpcUrl`: a verdict object, or
 * { cannotRead: reason } or { cannotCheck: reason }. */
export async function verifyAgainstNode(text, rpcUrl) {
  let read;
  try {
    read = readDocument(text);
  } catch (err) {
    if (err instanceof CannotReadError) return { cannotRead: err.message };
    throw err;
  }
  const rpc = new Rpc(rpcUrl);
  try {
    return read.kind === "timeline" ? await verifyTimeline(read.doc, rpc) : await verifyBundle(read.doc, rpc);
  } catch (err) {
    if (err instanceof NodeUnreachableError) return { cannotCheck: `cannot check: ${err.message}` };
    throw err;
  }
}
