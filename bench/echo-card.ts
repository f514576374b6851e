/** The one agent every A2A server in the bench serves: it repeats the caller's words, in pieces. */
export const ECHO_CARD = "---\nname: echo\nmodel: passthrough\ndefault: true\n---\n\nRepeat the caller's message exactly.\n";
