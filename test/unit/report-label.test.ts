import { describe, expect, it } from 'vitest';
import { buildReport } from '../../lab/report/model.js';
import { renderHtml, renderMarkdown } from '../../lab/report/render.js';
import { sampleRun } from './report-fixtures.js';

describe('report label', () => {
  it('shows the label under the title in HTML and Markdown, escaped', () => {
    const m = buildReport([sampleRun()], '2026-11-22T00:00:00Z', 'Made with the simulated Proxmox stand-in <not real>');
    const html = renderHtml(m);
    expect(html).toContain('<p class="label">Made with the simulated Proxmox stand-in &lt;not real&gt;</p>');
    expect(renderMarkdown(m)).toMatch(/^# .*\n\n> \*\*Made with the simulated Proxmox stand-in/);
  });
  it('shows nothing without a label', () => {
    expect(renderHtml(buildReport([sampleRun()], '2026-11-22T00:00:00Z'))).not.toContain('class="label"');
  });
});
