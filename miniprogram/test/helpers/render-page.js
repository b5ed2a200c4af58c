'use strict';
// Renders pages/login with WeChat's own WXML compiler (wcc, from miniprogram-compiler)
// through miniprogram-simulate in a jsdom document, with login.js as the page's code.
// (Node's runner also loads this file as a test file; it defines no tests.)
//
// miniprogram-simulate renders components, so Page(definition) is registered as a
// component whose methods are the page's handlers; onLoad is called by the test.

const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const PAGE = path.join(ROOT, 'pages', 'login', 'login');

let simulate = null;

// Loads jsdom and miniprogram-simulate once; a clear failure when `npm ci` was not run.
function setup() {
  if (simulate) return simulate;
  let JSDOM;
  try {
    JSDOM = require('jsdom').JSDOM;
    require.resolve('miniprogram-simulate');
  } catch (e) {
    throw new Error('miniprogram-simulate and jsdom are missing: run `npm ci` in miniprogram/ (make test does)');
  }
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>');
  global.window = dom.window;
  global.document = dom.window.document;
  simulate = require('miniprogram-simulate');
  return simulate;
}

// renderPage(wx, {app}) -> {comp, page, text(), buttons(), find(sel)}
//   wx: the fake wx the page's code sees; app: what getApp() returns (optional)
function renderPage(wx, opts) {
  const o = opts || {};
  const sim = setup();
  global.wx = wx;
  global.getApp = () => o.app || null;
  global.Page = (def) => {
    const methods = {};
    for (const k of Object.keys(def)) if (typeof def[k] === 'function') methods[k] = def[k];
    global.Component({ data: def.data, methods: methods });
  };
  let id;
  try {
    id = sim.load(PAGE, 'login-page', { rootPath: ROOT, compiler: 'official' });
  } finally {
    delete global.Page;
  }
  const comp = sim.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return {
    comp: comp,
    page: comp.instance,
    view: () => comp.instance.data.view,
    // the text a person sees, whitespace collapsed
    text: () => comp.dom.textContent.replace(/\s+/g, ' ').trim(),
    nodes: () => nodes(comp),
    // the rendered buttons, in order: {label, disabled, openType, formType, on: {event: handler}}
    buttons: () =>
      nodes(comp)
        .filter((n) => n.tag === 'button')
        .map((n) => ({
          label: n.text,
          disabled: n.attrs.disabled === true,
          openType: n.attrs.openType || null,
          formType: n.attrs.formType || null,
          on: n.on,
          node: n.node,
        })),
    button: (label) => {
      const b = nodes(comp).find((n) => n.tag === 'button' && n.text === label);
      if (!b) throw new Error('no button "' + label + '" in: ' + comp.dom.textContent);
      return b;
    },
    first: (tag) => nodes(comp).find((n) => n.tag === tag) || null,
  };
}

// Every rendered element (what wx:if left in), as WeChat's compiler produced it:
// {tag, attrs: {name: value}, on: {event: handler}, text, node}.
function nodes(comp) {
  const out = [];
  function walk(n) {
    const vt = n._vt;
    if (vt && vt.tagName && vt.tagName !== 'virtual' && vt.tagName !== 'shadow' && n.$$) {
      const attrs = {};
      for (const a of vt.attrs || []) attrs[a.name] = a.value;
      const on = {};
      for (const k of Object.keys(vt.event || {})) on[k] = vt.event[k].handler;
      out.push({ tag: vt.tagName, attrs: attrs, on: on, text: n.$$.textContent.replace(/\s+/g, ' ').trim(), node: n });
    }
    (n.childNodes || []).forEach(walk);
  }
  walk(comp._exparserNode.shadowRoot);
  return out;
}

// Fires a component event (tap, submit, blur, nicknamereview, ...) on a rendered element
// the way the framework delivers it: bubbling to the page's bound handler.
function fire(element, name, detail) {
  const exparser = require('miniprogram-exparser');
  const node = element.node || element;
  exparser.Event.dispatchEvent(node, exparser.Event.create(name, detail || {}, { bubbles: true, composed: true }));
}

module.exports = { ROOT: ROOT, setup: setup, renderPage: renderPage, fire: fire };
