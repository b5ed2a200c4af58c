'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const i18n = require('../lib/i18n');
const errors = require('../lib/errors');

test('both languages have exactly the same keys and placeholders', () => {
  const en = i18n.STRINGS.en;
  const zh = i18n.STRINGS.zh;
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const holes = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const k of Object.keys(en)) {
    assert.deepEqual(holes(zh[k]), holes(en[k]), k);
    assert.ok(en[k].length > 0 && zh[k].length > 0, k);
  }
});

test('every catalogued error has a title and message in both languages', () => {
  for (const code of Object.keys(errors.CATALOG)) {
    for (const lang of i18n.LANGUAGES) {
      const d = errors.describeError(code, lang, { site: 'S' });
      assert.ok(!d.title.startsWith('err_'), code + ' ' + lang);
      assert.ok(!d.message.startsWith('err_'), code + ' ' + lang);
      assert.equal(d.actions.close, true, code);
    }
  }
});

test('pickLanguage: WeChat language codes', () => {
  const wx = (lang) => ({ getAppBaseInfo: () => ({ language: lang }) });
  assert.equal(i18n.pickLanguage(wx('zh_CN')), 'zh');
  assert.equal(i18n.pickLanguage(wx('zh_TW')), 'zh');
  assert.equal(i18n.pickLanguage(wx('zh_HK')), 'zh');
  assert.equal(i18n.pickLanguage(wx('zh-Hans')), 'zh');
  assert.equal(i18n.pickLanguage(wx('en')), 'en');
  assert.equal(i18n.pickLanguage(wx('en_US')), 'en');
  assert.equal(i18n.pickLanguage(wx('fr')), 'en');
  assert.equal(i18n.pickLanguage(wx('')), 'en');
});

test('pickLanguage: getAppBaseInfo first, getSystemInfoSync as fallback, config override', () => {
  assert.equal(i18n.pickLanguage({ getAppBaseInfo: () => ({ language: 'en' }), getSystemInfoSync: () => ({ language: 'zh_CN' }) }), 'en');
  assert.equal(i18n.pickLanguage({ getSystemInfoSync: () => ({ language: 'zh_CN' }) }), 'zh');
  assert.equal(i18n.pickLanguage({ getAppBaseInfo: () => { throw new Error('old'); }, getSystemInfoSync: () => ({ language: 'zh_CN' }) }), 'zh');
  assert.equal(i18n.pickLanguage({}), 'en');
  assert.equal(i18n.pickLanguage({ getSystemInfoSync: () => ({ language: 'zh_CN' }) }, { language: 'en' }), 'en');
  assert.equal(i18n.pickLanguage({ getSystemInfoSync: () => ({ language: 'en' }) }, { language: 'zh' }), 'zh');
  assert.equal(i18n.pickLanguage({ getSystemInfoSync: () => ({ language: 'en' }) }, { language: 'auto' }), 'en');
});

test('t fills placeholders and falls back', () => {
  assert.equal(i18n.t('en', 'ask', { site: 'Demo' }), 'Demo wants to log you in on a computer');
  assert.equal(i18n.t('zh', 'ask', { site: 'Demo' }), 'Demo 请求在电脑上登录你的账号');
  assert.equal(i18n.t('fr', 'confirm'), 'Confirm login');
  assert.equal(i18n.t('en', 'no_such_key'), 'no_such_key');
  assert.equal(i18n.t('en', 'timeAgoMinutes', {}), '{n} min ago');
});
