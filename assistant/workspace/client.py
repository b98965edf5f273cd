"""The browser side of the Coach tab: what the widgets cannot do on their own.

- `[n]` in the latest answer becomes a button that opens source n in the sources panel, highlights it and brings
  it into view (beside the answer on a desktop, below it on a phone). Only the latest answer gets buttons: the
  panel holds that answer's sources, so an older answer's [2] would open the wrong passage.
- When a question is sent, the chat scrolls so the question sits at the top and the answer starts right under it,
  and keeps it there while the answer streams in (until the user scrolls), instead of following the stream to its
  end (the chatbot's own autoscroll is off).

- The chat's copy button copies a message's words (lists numbered, paragraphs apart), not its HTML.
- Keyboard: arrow keys (and Home / End) move between the tabs; a dropdown's list closes when Tab leaves it.
- On a phone the page opens at its header (the question box's autofocus would scroll past it).
- The header's light / dark switch (Gradio's own `dark` class on the body), remembered in this browser.

It runs once, as the header's `js_on_load` (Gradio evaluates that with `Function`, which the page's
Content-Security-Policy allows; an inline <script> would need the page's nonce). Nothing here fetches anything or
reads the message text beyond finding `[n]`.
"""

from __future__ import annotations

WORKSPACE_JS = r"""
if (!window.__mentorWorkspace) {
  window.__mentorWorkspace = true;
  const ONE_CITATION = /\[(\d{1,3})\]/;
  const CITATIONS = /\[(\d{1,3})\]/g;
  const chat = () => document.querySelector('#coach-chat');

  const plain = (button) => button.replaceWith(document.createTextNode(button.textContent));

  const citationButton = (n, text) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'ma-cite';
    button.dataset.n = n;
    button.textContent = text;
    button.title = 'Show source ' + n;
    button.setAttribute('aria-label', 'Show source ' + n);
    return button;
  };

  const decorate = (message) => {
    const walker = document.createTreeWalker(message, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) => ONE_CITATION.test(node.nodeValue) && !node.parentElement.closest('code, pre, button')
        ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT,
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    for (const node of nodes) {
      const text = node.nodeValue;
      const pieces = document.createDocumentFragment();
      let last = 0;
      for (const match of text.matchAll(CITATIONS)) {
        pieces.append(text.slice(last, match.index), citationButton(match[1], match[0]));
        last = match.index + match[0].length;
      }
      pieces.append(text.slice(last));
      node.replaceWith(pieces);
    }
  };

  const showSource = (n) => {
    const card = document.querySelector('#sources-panel .ma-source[data-n="' + CSS.escape(n) + '"]');
    if (!card) return;
    const active = document.querySelectorAll('#sources-panel .ma-source-active');
    active.forEach((other) => other.classList.remove('ma-source-active'));
    card.classList.add('ma-source-active');
    const box = card.closest('details.ma-sources-box');
    if (box) box.open = true;  // a folded panel opens for the source asked for
    const details = card.querySelector('details');
    if (details) details.open = true;
    card.setAttribute('tabindex', '-1');
    card.focus({preventScroll: true});
    card.scrollIntoView({block: 'nearest'});
  };

  // The newest question stays pinned to the top of the chat while its answer streams in: at the moment it is
  // sent there is nothing below it to scroll by, so one scroll then left it a few hundred pixels down. The pin
  // is let go as soon as the user scrolls, clicks or types in the chat themselves.
  let questionsSeen = 0;
  let pinned = false;
  const letGo = () => { pinned = false; };
  const watched = new WeakSet();
  const pinTarget = (root) => {
    const questions = root.querySelectorAll('[data-testid="user"]');
    if (!questions.length) return null;
    const question = questions[questions.length - 1].closest('.message-row') || questions[questions.length - 1];
    const wrap = root.querySelector('.bubble-wrap');
    // A long pasted question would push the answer out of sight: then the answer's first line goes to the top.
    const answers = root.querySelectorAll('[data-testid="bot"]');
    const answer = answers.length ? answers[answers.length - 1].closest('.message-row') : null;
    const afterQuestion = answer && question.compareDocumentPosition(answer) & Node.DOCUMENT_POSITION_FOLLOWING;
    return question.offsetHeight > wrap.clientHeight / 3 && afterQuestion ? answer : question;
  };
  const keepNewQuestionInView = (root) => {
    const wrap = root.querySelector('.bubble-wrap');
    if (!wrap) return;
    if (!watched.has(wrap)) {
      watched.add(wrap);
      for (const kind of ['wheel', 'touchstart', 'keydown', 'pointerdown']) {
        wrap.addEventListener(kind, letGo, {passive: true});
      }
    }
    const count = root.querySelectorAll('[data-testid="user"]').length;
    if (count < questionsSeen) { questionsSeen = count; pinned = false; }  // a new or reopened conversation
    if (count > questionsSeen) { questionsSeen = count; pinned = true; }
    if (!pinned) return;
    const target = pinTarget(root);
    if (!target) return;
    // 32 px of room above it: the chat's floating label and its clear button sit over the top of the wrap.
    const offset = target.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 32;
    if (Math.abs(offset) > 1) wrap.scrollTop += offset;
  };

  // --- phone: the page opens at its header ----------------------------------------------------------------------
  // The question box takes the focus on load for keyboard users; on a phone that scrolled the page past the header
  // and opened the on-screen keyboard, so there the focus is let go once and the page stays at its top.
  const PHONE = window.matchMedia('(max-width: 720px)');
  let openedAtTop = false;
  document.addEventListener('pointerdown', () => { openedAtTop = true; }, {capture: true, once: true});
  const openAtTop = () => {
    const active = document.activeElement;
    if (!PHONE.matches || !active || !active.closest || !active.closest('#coach-input')) return;
    openedAtTop = true;
    active.blur();
    window.scrollTo(0, 0);
  };

  const tidy = () => {
    showTheme();  // the header is drawn again by the server on load
    if (!openedAtTop) openAtTop();
    const root = chat();
    if (!root) return;
    const answers = root.querySelectorAll('[data-testid="bot"]');
    answers.forEach((answer, i) => {
      if (i < answers.length - 1) answer.querySelectorAll('button.ma-cite').forEach(plain);
    });
    if (answers.length) decorate(answers[answers.length - 1]);
    keepNewQuestionInView(root);
    labelMessages();
  };

  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; tidy(); });
  }).observe(document.body, {childList: true, subtree: true, characterData: true});

  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('button.ma-cite');
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    showSource(button.dataset.n);
  }, true);

  // --- copy: the words of a message, not the HTML the chat holds ---------------------------------------------------
  // The chat's own copy button copies a message's stored content, which here is HTML (answers are rendered on the
  // server). The click is taken over: the message as text, its lists numbered and its paragraphs kept apart.
  const BLOCKS = new Set(['P', 'DIV', 'UL', 'OL', 'LI', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'BLOCKQUOTE', 'PRE',
    'TABLE', 'TR', 'HR']);
  const asText = (root) => {
    const out = [];
    const walk = (node, prefix) => {
      if (node.nodeType === Node.TEXT_NODE) { out.push(node.nodeValue.replace(/\s+/g, ' ')); return; }
      if (node.nodeType !== Node.ELEMENT_NODE || node.getAttribute('aria-hidden') === 'true') return;
      const tag = node.tagName;
      if (tag === 'BR') { out.push('\n'); return; }
      const block = BLOCKS.has(tag);
      if (block) out.push('\n\n');
      if (tag === 'LI') {
        const list = node.parentElement;
        const ordered = list && list.tagName === 'OL';
        const index = [...list.children].indexOf(node) + Number(list.getAttribute('start') || 1);
        out.push(ordered ? index + '. ' : '- ');
      }
      node.childNodes.forEach((child) => walk(child, prefix));
      if (block) out.push('\n\n');
    };
    walk(root, '');
    return out.join('').split('\n').map((line) => line.trim()).join('\n')
      .replace(/\n(\d+\. |- )\n+/g, '\n$1').replace(/\n{3,}/g, '\n\n').replace(/\n\n(?=(\d+\. |- ))/g, '\n')
      .trim();
  };
  const messageOf = (button) => {
    const bar = button.closest('.message-buttons-left, .message-buttons-right, .message-buttons');
    for (let row = bar && bar.previousElementSibling; row; row = row.previousElementSibling) {
      const message = row.querySelector('[data-testid="bot"], [data-testid="user"]');
      if (message) return message;
    }
    const row = button.closest('.message-row');
    return row ? row.querySelector('[data-testid="bot"], [data-testid="user"]') : null;
  };
  const copyText = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {  // no clipboard permission, or not a secure page: the old way
      const box = document.createElement('textarea');
      box.value = text;
      box.setAttribute('readonly', '');
      box.style.position = 'fixed';
      box.style.opacity = '0';
      document.body.append(box);
      box.select();
      document.execCommand('copy');
      box.remove();
    }
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('button[aria-label="Copy message"]');
    if (!button || !button.closest('#coach-chat, #practice-chat')) return;
    const message = messageOf(button);
    if (!message) return;
    event.preventDefault();
    event.stopPropagation();
    const text = asText(message.querySelector('.message-content') || message);
    copyText(text).then(() => {
      button.classList.add('ma-copied');
      button.title = 'Copied';
      setTimeout(() => { button.classList.remove('ma-copied'); button.title = 'Copy message'; }, 1500);
    });
  }, true);

  // Screen readers read a message's label; the chat makes it from the stored HTML, so it is set from the text.
  const labelMessages = () => {
    document.querySelectorAll('#coach-chat [data-testid="bot"], #practice-chat [data-testid="bot"]').forEach((m) => {
      const label = m.getAttribute('aria-label') || '';
      if (label.includes('<')) m.setAttribute('aria-label', 'Answer: ' + m.innerText.slice(0, 300));
    });
  };

  // --- keyboard: arrow keys move between tabs, as in any tab list -------------------------------------------------
  document.addEventListener('keydown', (event) => {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
    const tab = event.target.closest && event.target.closest('[role="tab"]');
    if (!tab || tab.closest('.visually-hidden')) return;
    const tabs = [...tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]')]
      .filter((t) => !t.closest('.visually-hidden') && !t.disabled);
    const at = tabs.indexOf(tab);
    if (at < 0) return;
    const next = event.key === 'Home' ? 0 : event.key === 'End' ? tabs.length - 1
      : (at + (event.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length;
    event.preventDefault();
    tabs[next].focus();
    tabs[next].click();
  });

  // --- keyboard: a dropdown's list closes when Tab moves focus on ----------------------------------------------------
  // Gradio's dropdown treats every key as typing: it closes its list on blur, then its (asynchronous) key handler
  // for the Tab that caused the blur opens the list again. Tab is kept from that handler; the focus still moves.
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') return;
    const input = event.target;
    if (input && input.matches && input.matches('input[role="combobox"]')) event.stopPropagation();
  }, true);

  // --- light / dark: the header's switch, remembered in this browser -----------------------------------------------
  const THEME_KEY = 'mentor-assistant-theme';
  const showTheme = () => {
    const dark = document.body.classList.contains('dark');
    const button = document.querySelector('#theme-switch');
    if (!button) return;
    button.textContent = dark ? 'Light theme' : 'Dark theme';
    button.setAttribute('aria-pressed', String(dark));
    button.title = dark ? 'Switch to the light theme' : 'Switch to the dark theme';
  };
  const setTheme = (mode) => {
    document.body.classList.toggle('dark', mode === 'dark');
    try { localStorage.setItem(THEME_KEY, mode); } catch (e) { /* private mode: not remembered */ }
    showTheme();
  };
  try {
    const saved = localStorage.getItem(THEME_KEY);
    if (saved === 'dark' || saved === 'light') setTheme(saved);
  } catch (e) { /* no storage: the system's choice stays */ }
  showTheme();
  new MutationObserver(showTheme).observe(document.body, {attributes: true, attributeFilter: ['class']});
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('#theme-switch');
    if (!button) return;
    setTheme(document.body.classList.contains('dark') ? 'light' : 'dark');
  });
}
"""
