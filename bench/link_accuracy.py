"""Link suggestions on a labelled set: tickets written as teams write them, each with the outcome
it really serves (chosen by hand), against the outcomes of a payments product. Prints top-1 and
top-3 accuracy and the time per suggestion."""

from __future__ import annotations

import time

from _common import report

from guarantor.work.service import Suggester
from guarantor.workspace.schema import Outcome

OUTCOMES = [
    Outcome(
        id="payouts",
        title="Merchants receive payouts on the promised day",
        for_whom="Merchants",
        need="Predictable cash flow from settled payouts and bank transfers",
        indicator="Payouts settled on time",
    ),
    Outcome(
        id="support",
        title="Customers get a first answer from support within the hour",
        for_whom="Customers",
        need="Help with tickets, refunds and questions by chat and e-mail",
        indicator="Median first reply time",
    ),
    Outcome(
        id="checkout",
        title="Checkout is fast and never fails",
        for_whom="Shoppers",
        need="Pay quickly on the checkout page, on mobile and desktop",
        indicator="Checkout p95 latency and errors",
    ),
    Outcome(
        id="fraud",
        title="Fraudulent payments are stopped before settlement",
        for_whom="Card holders and merchants",
        need="No stolen cards, chargebacks or fraud losses",
        indicator="Fraud loss rate",
    ),
    Outcome(
        id="onboarding",
        title="New merchants go live within a day",
        for_whom="New merchants",
        need="Sign up, verify identity (KYC) and connect their shop without waiting",
        indicator="Time to go live",
    ),
    Outcome(
        id="reporting",
        title="Merchants trust their monthly statements and reports",
        for_whom="Merchant finance teams",
        need="Accurate invoices, statements, VAT and reconciliation exports",
        indicator="Statement disputes",
    ),
]

LABELLED = [
    ("Payout batch job skips transfers on bank holidays", "payouts"),
    ("Retry failed SEPA transfers with exponential backoff", "payouts"),
    ("Alert when a payout is late by more than 2 hours", "payouts"),
    ("Settlement file from the bank is parsed with the wrong currency", "payouts"),
    ("Show expected payout date in the merchant dashboard", "payouts"),
    ("Payouts stuck in pending after IBAN change", "payouts"),
    ("Migrate payout scheduler off the nightly cron", "payouts"),
    ("Zendesk macro for refund questions", "support"),
    ("Route chat tickets to the on-call support agent", "support"),
    ("Support inbox: auto-reply with ticket number and expected answer time", "support"),
    ("Reduce first reply time for German-speaking customers", "support"),
    ("Help-centre article: how to request a refund", "support"),
    ("Escalate unanswered tickets after 45 minutes", "support"),
    ("Checkout page takes 6 seconds to load on mobile", "checkout"),
    ("3-D Secure popup blocks payment on Safari", "checkout"),
    ("Cache currency rates to cut checkout latency", "checkout"),
    ("Apple Pay button missing on desktop checkout", "checkout"),
    ("Payment form loses entered card details after an error", "checkout"),
    ("Load test the checkout API at 2x peak traffic", "checkout"),
    ("Velocity rule: block cards used in 5 countries within an hour", "fraud"),
    ("Chargeback spike from one merchant category", "fraud"),
    ("Train the fraud model on last quarter's stolen card reports", "fraud"),
    ("Hold settlement of suspicious payments for manual review", "fraud"),
    ("Device fingerprinting for card-not-present payments", "fraud"),
    ("KYC document upload fails for PDF passports", "onboarding"),
    ("Shopify plugin: connect shop in one click during sign up", "onboarding"),
    ("Identity verification queue takes 3 days", "onboarding"),
    ("Welcome e-mail with go-live checklist for new merchants", "onboarding"),
    ("Sign up form asks for VAT number twice", "onboarding"),
    ("Monthly statement shows fees in the wrong month", "reporting"),
    ("Export reconciliation report as CSV for accounting", "reporting"),
    ("Invoice PDF missing VAT breakdown", "reporting"),
    ("Statement totals do not match the sum of transactions", "reporting"),
    ("Add fee breakdown to the monthly merchant report", "reporting"),
    ("Disputed statement: refunds counted twice", "reporting"),
]


def main() -> None:
    suggester = Suggester(OUTCOMES)
    top1 = top3 = 0
    start = time.perf_counter()
    for text, right in LABELLED:
        found = [s.outcome for s in suggester.suggest(text, k=3)]
        top1 += bool(found) and found[0] == right
        top3 += right in found
    seconds = time.perf_counter() - start
    report(
        "link_accuracy",
        {
            "items": len(LABELLED),
            "outcomes": len(OUTCOMES),
            "top1_accuracy": top1 / len(LABELLED),
            "top3_accuracy": top3 / len(LABELLED),
            "microseconds_per_item": seconds / len(LABELLED) * 1e6,
        },
    )


if __name__ == "__main__":
    main()
