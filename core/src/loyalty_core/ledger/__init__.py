"""The double-entry ledger: assets, accounts, transactions, entries and lots.

Invariants, kept by the service and checked by the property tests:

* the entries of one transaction sum to zero per asset (also enforced by a deferred
  constraint trigger at commit);
* a member account's balance equals the sum of its entries and the remaining of its lots;
* a member account never goes below zero unless its asset allows it (a CHECK constraint);
* transactions and entries are never updated or deleted (the app role may only insert).
"""
