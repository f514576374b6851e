/** The one agent every A2A server in the bench serves: it repeats the caller's words, in pieces. */
export const ECHO_CARD = "---\nname: echo\nmodel: passthrough\ndefault: true\n---\n\nRepeat the caller's message exactly.\n";

/** The agent of the soak and open-streams phases: its model is the fake inference router in the bench process. */
export const ROUTER_CARD = "---\nname: relay\nmodel: hf.bench/fake-model\ndefault: true\n---\n\nAnswer the caller.\n";
