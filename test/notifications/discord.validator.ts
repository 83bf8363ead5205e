/**
 * Discord's documented webhook/embed limits, written here from the docs
 * (discord.com/developers/docs/resources/webhook#execute-webhook, …/message#embed-object-embed-limits),
 * independently of the numbers in payload.format.ts.
 */
export function discordProblems(p: Record<string, unknown>): string[] {
  const out: string[] = [];
  const content = p.content as string | undefined;
  const embeds = (p.embeds ?? []) as Array<Record<string, unknown>>;
  if (content === undefined && embeds.length === 0) out.push('one of content or embeds is required');
  if (content !== undefined && content.length > 2000) out.push('content > 2000');
  if (embeds.length > 10) out.push('embeds > 10');
  if (typeof p.username === 'string' && (p.username.length < 1 || p.username.length > 80)) out.push('username length');
  let total = 0;
  for (const e of embeds) {
    const title = (e.title as string | undefined) ?? '';
    const desc = (e.description as string | undefined) ?? '';
    const fields = (e.fields ?? []) as Array<{ name: string; value: string }>;
    const footer = ((e.footer as { text?: string } | undefined)?.text) ?? '';
    if (title.length > 256) out.push('title > 256');
    if (desc.length > 4096) out.push('description > 4096');
    if (fields.length > 25) out.push('fields > 25');
    for (const f of fields) {
      if (!f.name || f.name.length > 256) out.push('field name empty or > 256');
      if (!f.value || f.value.length > 1024) out.push('field value empty or > 1024');
    }
    if (footer.length > 2048) out.push('footer > 2048');
    if (e.color !== undefined && (!Number.isInteger(e.color) || (e.color as number) < 0 || (e.color as number) > 0xffffff)) out.push('color');
    if (e.timestamp !== undefined && Number.isNaN(Date.parse(e.timestamp as string))) out.push('timestamp');
    total += title.length + desc.length + fields.reduce((a, f) => a + f.name.length + f.value.length, 0) + footer.length;
  }
  if (total > 6000) out.push(`total ${total} > 6000`);
  return out;
}
