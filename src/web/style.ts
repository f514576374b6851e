/**
 * The page's style sheet, served as a file (CSP `style-src 'self'` allows no inline style). Light
 * and dark follow the visitor's system setting; the layout is one column that fits a phone, with
 * the chat above the fold.
 */
export const PAGE_STYLE = `
:root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#ffd21e;--accent-fg:#1f2328;--link:#0969da;--err:#b42318;--err-bg:#fff1f0;--user:#eef4ff;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--soft:#151b23;--accent:#ffd21e;--accent-fg:#1f2328;--link:#4493f8;--err:#ff8b80;--err-bg:#2d1416;--user:#172338}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}
code,pre,textarea,input{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
textarea,input,select,button{font:inherit;color:inherit}
.wrap{max-width:62rem;margin:0 auto;padding:.6rem 1rem}
.top{display:flex;flex-wrap:wrap;gap:.4rem 1.5rem;justify-content:space-between;align-items:flex-start;padding-top:1rem}
.id{flex:1 1 22rem;min-width:0}
h1{font-size:1.4rem;line-height:1.25;margin:0;overflow-wrap:anywhere}
h1 small{font-size:.7em;font-weight:normal}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
h3{font-size:.95rem;margin:0}
.lede{margin:.2rem 0 0;color:var(--muted)}
.account{flex:0 1 26rem;display:flex;flex-direction:column;gap:.35rem}
.need{margin:0;font-size:.9rem}
.row{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
.muted{color:var(--muted)}
.small{font-size:.85rem}
.note{margin:0;font-size:.9rem}
.note:empty{display:none}
.note.error{color:var(--err)}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
button{cursor:pointer;border:1px solid var(--line);background:var(--soft);border-radius:8px;padding:.4rem .8rem;min-height:2.25rem}
button.primary{background:var(--accent);color:var(--accent-fg);border-color:transparent;font-weight:600}
button.quiet{background:transparent}
button:disabled{cursor:default;opacity:.5}
:focus-visible{outline:3px solid var(--link);outline-offset:2px}
select,input{border:1px solid var(--line);background:var(--bg);border-radius:8px;padding:.35rem .5rem;min-height:2.25rem;max-width:100%}
details summary{cursor:pointer;display:inline-block;padding:.4rem .2rem}
details[open]{flex-basis:100%}
details form{margin:.3rem 0}
details input,.paste input{flex:1 1 12rem}
.paste+p{margin:.3rem 0 0}
.chat{margin-top:.4rem}
.bar{margin-bottom:.4rem}
.bar label{font-weight:600}
#agent-about{flex:1 1 12rem;min-width:0}
.log{border:1px solid var(--line);border-radius:10px;padding:.6rem .8rem;min-height:7.5rem;max-height:min(58vh,40rem);overflow:auto;background:var(--soft)}
.examples{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
.examples button{font-size:.85rem;text-align:left;background:var(--bg)}
.msg{margin:.2rem 0 .8rem}
.msg .who{font-size:.8rem;font-weight:600;color:var(--muted)}
.msg.user .body{background:var(--user);border-radius:8px;padding:.4rem .6rem;white-space:pre-wrap;overflow-wrap:anywhere;display:inline-block;max-width:100%}
.msg.agent .body{overflow-wrap:anywhere}
.md>:first-child{margin-top:0}.md>:last-child{margin-bottom:0}
.md p,.md ul,.md ol,.md pre,.md blockquote{margin:.4rem 0}
.md pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem;overflow:auto;white-space:pre}
.md :not(pre)>code{background:var(--bg);border-radius:4px;padding:0 .25rem}
.md blockquote{border-left:3px solid var(--line);padding-left:.6rem;color:var(--muted)}
.streaming::after{content:"▍";animation:blink 1s steps(2) infinite}
@keyframes blink{50%{opacity:0}}
@media (prefers-reduced-motion:reduce){.streaming::after{animation:none}}
.activity{list-style:none;margin:.1rem 0 .3rem;padding:0;font-size:.82rem;color:var(--muted)}
.activity li::before{content:"⚙ "}
.msg .err{color:var(--err);background:var(--err-bg);border-radius:6px;padding:.3rem .5rem;margin:.3rem 0}
.msg .end{font-size:.82rem;color:var(--muted);margin:.2rem 0}
.composer{display:flex;gap:.5rem;margin-top:.5rem;align-items:flex-end}
.composer textarea{flex:1;min-width:0;resize:vertical;border:1px solid var(--line);border-radius:8px;padding:.5rem;background:var(--bg);min-height:2.9rem}
.actions{display:flex;gap:.4rem}
.agents{padding-left:1.2rem}.agents li{margin:.3rem 0}
.snippet{margin:.8rem 0}
.snippet pre{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:.7rem;overflow:auto;margin:.3rem 0}
footer{margin:1.5rem auto 1rem}
@media (max-width:34rem){.composer{flex-direction:column;align-items:stretch}.actions button{flex:1}.top{padding-top:.6rem}h1{font-size:1.25rem}.log{max-height:50vh}}
`;
