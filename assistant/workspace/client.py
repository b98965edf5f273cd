"""The browser side of the Coach tab: what the widgets cannot do on their own.

- `[n]` in the latest answer becomes a button that opens source n in the sources panel, highlights it and brings
  it into view (beside the answer on a desktop, below it on a phone). Only the latest answer gets buttons: the
  panel holds that answer's sources, so an older answer's [2] would open the wrong passage.
- When a question is sent, the chat scrolls so the question sits at the top and the answer starts right under it,
  instead of following the stream to its end (the chatbot's own autoscroll is off).

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
    const details = card.querySelector('details');
    if (details) details.open = true;
    card.setAttribute('tabindex', '-1');
    card.focus({preventScroll: true});
    card.scrollIntoView({block: 'nearest'});
  };

  let questionsSeen = 0;
  const scrollToNewQuestion = (root) => {
    const questions = root.querySelectorAll('[data-testid="user"]');
    if (questions.length < questionsSeen) questionsSeen = questions.length;  // a new conversation
    if (questions.length === questionsSeen) return;
    questionsSeen = questions.length;
    const wrap = root.querySelector('.bubble-wrap');
    const question = questions[questions.length - 1].closest('.message-row') || questions[questions.length - 1];
    if (!wrap) return;
    // A long pasted question would push the answer out of sight: then the answer's first line goes to the top.
    const answers = root.querySelectorAll('[data-testid="bot"]');
    const answer = answers.length ? answers[answers.length - 1] : null;
    const target = question.offsetHeight > wrap.clientHeight / 3 && answer ? answer : question;
    wrap.scrollTop += target.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 8;
  };

  const tidy = () => {
    const root = chat();
    if (!root) return;
    const answers = root.querySelectorAll('[data-testid="bot"]');
    answers.forEach((answer, i) => {
      if (i < answers.length - 1) answer.querySelectorAll('button.ma-cite').forEach(plain);
    });
    if (answers.length) decorate(answers[answers.length - 1]);
    scrollToNewQuestion(root);
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
}
"""
