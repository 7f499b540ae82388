/**
 * The People tab: the roster as moderators see it (everyone, with role, state, mute and who is
 * connected) and what a moderator may do to each: mute (for a while or until unmuted), unmute,
 * kick, ban, unban, and for the host, change a role. One reason field applies to the next
 * action and goes to the moderation log. The server decides who may act on whom
 * (docs/moderation.md); its refusal is shown.
 */
import { useState } from "preact/hooks";
import { ASSIGNABLE_ROLES } from "../../../../src/protocol/moderation.ts";
import type { MemberRole, MemberView } from "../../../../src/protocol/views.ts";
import { isMemberMuted } from "../../connection/mutes.ts";
import { timeOf } from "../../ui/text.ts";
import { useRoomState } from "../seminars/room-ui.ts";
import { type RunCommand, useCommand } from "./commands.ts";

/** How each role is named. */
export const ROLE_NAMES: Record<MemberRole, string> = {
  host: "Host",
  co_moderator: "Co-moderator",
  participant: "Participant",
  observer: "Observer",
};

const MUTE_CHOICES = [
  { seconds: 300, label: "5 minutes" },
  { seconds: 900, label: "15 minutes" },
  { seconds: 3600, label: "an hour" },
  { seconds: 0, label: "until unmuted" },
];

/** The People tab. */
export function Roster() {
  const room = useRoomState()!;
  const run = useCommand();
  const [reason, setReason] = useState("");
  const connected = new Set(room.presence.map((entry) => entry.memberId));
  const active = room.members.filter((member) => member.status === "active");
  const removed = room.members.filter((member) => member.status !== "active");
  const withReason = () => {
    const trimmed = reason.trim();
    return trimmed ? { reason: trimmed } : {};
  };
  // The reason was for this action: clear it once the server accepted it.
  const act: RunCommand = async (action, event, payload) => {
    const result = await run(action, event, payload);
    if (result.ok) setReason("");
    return result;
  };

  return (
    <section class="roster" aria-labelledby="roster-title">
      <h2 id="roster-title">People</h2>
      <p class="hint">
        {active.length} in the seminar, {connected.size} connected now.
      </p>
      <label class="reason-field">
        Reason for the next action (optional; kept in the moderation log and shown to the person)
        <input value={reason} maxLength={500} onInput={(event) => setReason(event.currentTarget.value)} />
      </label>
      <ul class="member-list">
        {active.map((member) => (
          <MemberRow
            key={member.id}
            member={member}
            connected={connected.has(member.id)}
            run={act}
            reason={withReason}
          />
        ))}
      </ul>
      {removed.length > 0 && (
        <>
          <h3>Removed</h3>
          <ul class="member-list">
            {removed.map((member) => (
              <MemberRow key={member.id} member={member} connected={false} run={act} reason={withReason} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function MemberRow(props: {
  member: MemberView;
  connected: boolean;
  run: RunCommand;
  reason: () => { reason?: string };
}) {
  const room = useRoomState()!;
  const { member, run } = props;
  const [muteFor, setMuteFor] = useState("300");
  const self = member.id === room.viewer.memberId;
  const host = member.role === "host";
  const canAct = !self && !host && room.seminar.state !== "ended";
  const canChangeRoles = room.viewer.role === "host";
  const name = member.displayName;
  const memberId = member.id;
  const nameId = `member-${member.id}`;
  // A timed mute that ran out is over, although the stored member still says muted.
  const muted = isMemberMuted(member);

  return (
    <li class={`member status-${member.status}${muted ? " muted" : ""}`} aria-labelledby={nameId}>
      <div class="member-head">
        <span class={`presence-dot${props.connected ? " on" : ""}`} aria-hidden="true" />
        <span class="member-name" id={nameId}>
          {name}
        </span>
        {self && <span class="badge subtle">You</span>}
        <span class="badge subtle">{ROLE_NAMES[member.role]}</span>
        {props.connected && <span class="sr-only">connected</span>}
        {muted && (
          <span class="badge muted-badge">
            Muted{member.mutedUntil ? ` until ${timeOf(member.mutedUntil)}` : ""}
          </span>
        )}
        {member.status === "kicked" && <span class="badge">Removed</span>}
        {member.status === "banned" && <span class="badge danger-badge">Banned</span>}
      </div>
      {canAct && member.status === "active" && (
        <div class="member-actions">
          {muted ? (
            <button
              type="button"
              onClick={() => void run(`Unmute ${name}`, "member:unmute", { memberId, ...props.reason() })}
            >
              Unmute
            </button>
          ) : (
            <span class="mute-group">
              <label class="sr-only" for={`mute-${member.id}`}>
                Mute {name} for
              </label>
              <select
                id={`mute-${member.id}`}
                value={muteFor}
                onChange={(event) => setMuteFor(event.currentTarget.value)}
              >
                {MUTE_CHOICES.map((choice) => (
                  <option key={choice.seconds} value={String(choice.seconds)}>
                    {choice.label}
                  </option>
                ))}
              </select>
              <button
                type="button"
                onClick={() => {
                  const seconds = Number(muteFor);
                  void run(`Mute ${name}`, "member:mute", {
                    memberId,
                    ...(seconds > 0 ? { durationSeconds: seconds } : {}),
                    ...props.reason(),
                  });
                }}
              >
                Mute
              </button>
            </span>
          )}
          <button
            type="button"
            onClick={() => void run(`Remove ${name}`, "member:kick", { memberId, ...props.reason() })}
          >
            Kick
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => void run(`Ban ${name}`, "member:ban", { memberId, ...props.reason() })}
          >
            Ban
          </button>
          {canChangeRoles && (
            <span class="role-group">
              <label class="sr-only" for={`role-${member.id}`}>
                Role of {name}
              </label>
              <select
                id={`role-${member.id}`}
                value={member.role}
                onChange={(event) => {
                  const role = ASSIGNABLE_ROLES.find((item) => item === event.currentTarget.value);
                  if (role)
                    void run(`Make ${name} ${ROLE_NAMES[role].toLowerCase()}`, "member:role", {
                      memberId,
                      role,
                      ...props.reason(),
                    });
                }}
              >
                {ASSIGNABLE_ROLES.map((role) => (
                  <option key={role} value={role}>
                    {ROLE_NAMES[role]}
                  </option>
                ))}
              </select>
            </span>
          )}
        </div>
      )}
      {canAct && member.status === "banned" && (
        <div class="member-actions">
          <button
            type="button"
            onClick={() => void run(`Unban ${name}`, "member:unban", { memberId, ...props.reason() })}
          >
            Unban
          </button>
        </div>
      )}
    </li>
  );
}
