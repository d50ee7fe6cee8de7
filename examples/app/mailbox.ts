import type { Express } from 'express';
import type { Consent } from '../../lib/index';
import { signedIn } from './guards';
import { html } from './html';
import { page } from './layout';
import type { Users } from './users';

/** An email the example would send. */
export interface Mail {
  /** The account it was sent to (its address is looked up when shown). */
  userId: string;
  subject: string;
  text: string;
  /** The link the email asks to follow. */
  link: string;
  sentAt: string;
}

const KEEP = 100;

/**
 * A stand-in for a mail service while developing: the confirmation emails of double opt-in are
 * kept in memory and shown on /dev/mailbox to the person they were sent to. A real service
 * would hand them to a mail provider in the same `confirmation` handler.
 */
export class DevMailbox {
  private readonly mails: Mail[] = [];

  deliver(mail: Mail): void {
    this.mails.unshift(mail);
    this.mails.length = Math.min(this.mails.length, KEEP);
  }

  /** The mails sent to an account, newest first. */
  for(userId: string): Mail[] {
    return this.mails.filter((m) => m.userId === userId);
  }
}

/** Sends the confirmation email of every double opt-in request, and serves the mailbox page. */
export function installMailbox(app: Express, consent: Consent, users: Users, mailbox: DevMailbox): void {
  // Delivered at once (no await): the mail is there when the request that asked for it returns.
  consent.on('confirmation', ({ subjectId, requirement, url }) => {
    const title = consent.requirements().find((r) => r.id === requirement)?.title ?? requirement;
    mailbox.deliver({
      userId: subjectId,
      subject: `Please confirm: ${title}`,
      text: `You asked us for the ${title.toLowerCase()}. Please confirm your address by following the link below. If you did not ask, ignore this email.`,
      link: url,
      sentAt: new Date().toISOString(),
    });
  });

  app.get('/dev/mailbox', signedIn, (req, res, next) => {
    users.find(req.session.userId as string).then((user) => {
      const mails = user ? mailbox.for(user.id) : [];
      res.send(page(req, 'Development mailbox', html`
        <h1>Development mailbox</h1>
        <p>This example sends no real email. The emails it would send to you${user ? html` (${user.email})` : null} appear here, newest first.</p>
        ${mails.length === 0
          ? html`<p>No email yet. Ask for the weekly reading digest on your <a href="/preferences#req-digest">privacy preferences</a> page.</p>`
          : mails.map((m, i) => html`
        <article class="mail" aria-labelledby="mail-${i}">
          <h2 id="mail-${i}">${m.subject}</h2>
          <p class="mail-meta">To ${user?.email}, sent <time datetime="${m.sentAt}">${m.sentAt.slice(0, 16).replace('T', ' ')} UTC</time></p>
          <p>${m.text}</p>
          <p><a href="${m.link}">Confirm my address</a></p>
        </article>`)}`));
    }, next);
  });
}
