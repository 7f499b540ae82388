/**
 * Where the server's presence counts this reader. In a large room a participant's presence
 * counts readers per paragraph without naming them, so the client subtracts itself from the
 * count of the paragraph where that presence holds it, which is not always the one it reported
 * last: the server stores a report (`presence:focus`) and then acknowledges it, and every
 * presence it sends after the store counts the reader there. So a presence that arrives after a
 * report's acknowledgement counts the reader at that report; one that arrives before it still
 * counts them at the report acknowledged before.
 */
export class FocusReports {
  private sent = 0;
  private acknowledgedReport = 0;
  private acknowledged: string | null = null;
  private counted: string | null = null;

  /** The paragraph where the presence this client holds counts the reader (null: none). */
  get countedAt(): string | null {
    return this.counted;
  }

  /** A report is sent: its number, for `acknowledge`. */
  send(): number {
    return ++this.sent;
  }

  /**
   * The server stored report `report` (for `paragraphId`). One not newer than the last taken says
   * nothing (acknowledgements out of order, or of a connection before `reconnected`).
   */
  acknowledge(report: number, paragraphId: string | null): void {
    if (report <= this.acknowledgedReport) return;
    this.acknowledgedReport = report;
    this.acknowledged = paragraphId;
  }

  /** A presence arrived (an update, or the one a sync answer carries). */
  presenceArrived(): void {
    this.counted = this.acknowledged;
  }

  /** A new connection: the server holds it without a paragraph until this client reports one. */
  reconnected(): void {
    this.acknowledgedReport = this.sent;
    this.acknowledged = null;
    this.counted = null;
  }
}
