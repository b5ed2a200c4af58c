'use strict';
// One entry point for the page and for Node (tests, the e2e runner).

const flow = require('./flow');
const ticket = require('./ticket');
const scene = require('./scene');
const gateway = require('./gateway');
const i18n = require('./i18n');
const errors = require('./errors');
const config = require('./config');
const format = require('./format');

module.exports = {
  createLoginFlow: flow.createLoginFlow,
  PHONE_QUOTA_ERRNO: flow.PHONE_QUOTA_ERRNO,
  parseLaunchQuery: ticket.parseLaunchQuery,
  parseScene: ticket.parseScene,
  parseQ: ticket.parseQ,
  parseScanResult: ticket.parseScanResult,
  isTicket: ticket.isTicket,
  classifyScene: scene.classifyScene,
  readLaunchScene: scene.readLaunchScene,
  createGateway: gateway.createGateway,
  GatewayError: gateway.GatewayError,
  pickLanguage: i18n.pickLanguage,
  t: i18n.t,
  describeError: errors.describeError,
  normalizeConfig: config.normalizeConfig,
  formatClock: format.formatClock,
};
