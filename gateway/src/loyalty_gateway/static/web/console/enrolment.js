// Enrolment (the onboarding module): how many start, verify, complete and buy for the
// first time, by channel; the enrolments held for review, approved or refused here; and
// the messages sent (in development, where they are only recorded, the codes to try).
import { mutate, useQuery } from "../common/api.js";
import { dateTime, num, t } from "../common/i18n.js";
import { Errors, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { Status } from "./parts.js";

const ENROLMENT = `query ConsoleEnrolment {
  enrolmentFunnel { channel started verified completed firstPurchase }
  enrolmentReviews(first: 50) { id channel status review reviewReason email phone createdAt }
  sentMessages(first: 20) { id medium recipient subject createdAt }
}`;
const REVIEW = `mutation ConsoleEnrolmentReview($input: EnrolmentReviewInput!) {
  enrolmentReview(input: $input) { enrolment { id review } errors { code field message } }
}`;

export function Enrolment() {
  const state = useQuery(ENROLMENT);
  const [reviewed, review] = useAction((enrolment, approve) => mutate(REVIEW, { input: { enrolmentId: enrolment.id, approve } }));
  const decide = async (enrolment, approve) => (await review(enrolment, approve)) && state.reload();
  return html`<${Loaded} state=${state}>${(data) => html`
    <${Section} title=${t("enrolment_funnel")}>
      <${Table} caption=${t("enrolment_funnel")} rows=${data.enrolmentFunnel} testid="funnel-row" columns=${[
        [t("channel"), (f) => f.channel],
        [t("started"), (f) => num(f.started)],
        [t("verified"), (f) => num(f.verified)],
        [t("completed"), (f) => num(f.completed)],
        [t("first_purchase"), (f) => num(f.firstPurchase)],
      ]} />
    </${Section}>
    <${Section} title=${t("enrolment_reviews")}>
      <${Table} caption=${t("enrolment_reviews")} rows=${data.enrolmentReviews} testid="review-row" columns=${[
        [t("when"), (e) => dateTime(e.createdAt)],
        [t("who"), (e) => e.email ?? e.phone ?? ""],
        [t("channel"), (e) => e.channel],
        [t("reason"), (e) => e.reviewReason ?? ""],
        [t("status"), (e) => html`<${Status} value=${e.review ?? e.status} />`],
        [t("actions"), (e) => html`<div class="row">
          <button class="primary" disabled=${reviewed.busy} aria-label=${t("approve_named", { name: e.email ?? e.phone ?? e.id })} onClick=${() => decide(e, true)}>${t("approve")}</button>
          <button class="secondary danger" disabled=${reviewed.busy} aria-label=${t("refuse_named", { name: e.email ?? e.phone ?? e.id })} onClick=${() => decide(e, false)}>${t("refuse")}</button>
        </div>`],
      ]} />
      <${Errors} errors=${reviewed.errors} />
    </${Section}>
    <${Section} title=${t("sent_messages")}>
      <${Table} caption=${t("sent_messages")} rows=${data.sentMessages} columns=${[
        [t("when"), (m) => dateTime(m.createdAt)],
        [t("medium"), (m) => m.medium],
        [t("recipient"), (m) => m.recipient],
        [t("subject"), (m) => m.subject],
      ]} />
    </${Section}>`}
  </${Loaded}>`;
}
