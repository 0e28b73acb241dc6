// JSON-RPC to the node the user chose. A node that cannot be reached is "cannot check"; a node
// that answers with an error is a failed read, which the check that needed it reports.

/** The node did not answer (network, CORS, not JSON-RPC): nothing can be concluded. */
export class NodeUnreachableError extends Error {}

/** The node answered a call with a JSON-RPC error. */
export class RpcError extends Error {
  constructor(method, error) {
    super(`${method}: ${error && error.message ? error.message : JSON.stringify(error)}`);
    this.data = error && typeof error.data === "string" ? error.data : null;
  }
}

// Long enough for a remote node under load, short enough that a dead URL is reported soon.
export const RPC_TIMEOUT_MS = 15000;

export class Rpc {
  constructor(url) {
    this.url = url;
    this.id = 0;
  }

  /** The node's result for `method`; throws NodeUnreachableError or RpcError. */
  async call(method, ...params) {
    let response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }),
        signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
      });
    } catch (err) {
      // The URL is not repeated: its path or query may hold the provider's key.
      // A browser tells a refused cross-origin answer from no answer at all only in its console.
      throw new NodeUnreachableError(`the node does not answer (${err.name}): check the URL, and that `
        + "the node accepts requests from this page's origin (CORS)");
    }
    let answer;
    try {
      answer = await response.json();
    } catch {
      throw new NodeUnreachableError(`the node's answer is not JSON-RPC (HTTP ${response.status})`);
    }
    if (answer === null || typeof answer !== "object") {
      throw new NodeUnreachableError(`the node's answer is not JSON-RPC (HTTP ${response.status})`);
    }
    if (answer.error) throw new RpcError(method, answer.error);
    if (!("result" in answer)) throw new NodeUnreachableError("the node's answer holds no result");
    return answer.result;
  }
}

export const quantity = (n) => "0x" + BigInt(n).toString(16);
