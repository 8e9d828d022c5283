// A form generated from an inquiry's JSON Schema: each property a labelled control (its `title`, else its
// name), descriptions as help text, required marks, and the server's 422 details shown at their field.
import { useState } from './vendor/hooks.mjs';
import { html } from './ui.js';

const INPUT_TYPES = { email: 'email', uri: 'url', date: 'date', 'date-time': 'datetime-local', time: 'time' };

/** The fields of a schema: an object's properties, or the whole answer as one field. */
export function fieldsOf(schema) {
  if (schema?.type === 'object' || schema?.properties) {
    const required = new Set(schema.required ?? []);
    return Object.entries(schema.properties ?? {}).map(([name, s]) => ({ name, schema: s ?? {}, required: required.has(name), path: `response.${name}` }));
  }
  return [{ name: 'response', schema: schema ?? {}, required: true, path: 'response', whole: true }];
}

function initial(s) {
  if (s.default !== undefined) return s.default;
  if (s.type === 'boolean') return false;
  if (s.type === 'array') return [];
  return '';
}

/** The answer from the form's values: numbers as numbers, date-times as ISO, empty optional fields left out. */
export function answerOf(fields, values) {
  const out = {};
  for (const f of fields) {
    let v = values[f.name];
    const t = f.schema.type;
    if (v === '' && t !== 'string') continue;
    if (v === '' && !f.required) continue;
    if ((t === 'number' || t === 'integer') && v !== '') v = Number(v);
    if (f.schema.format === 'date-time' && v) v = new Date(v).toISOString();
    out[f.name] = v;
  }
  return fields.length === 1 && fields[0].whole ? out.response : out;
}

function Control({ field, value, set, id, described }) {
  const s = field.schema;
  const common = { id, 'aria-describedby': described, 'aria-required': field.required ? 'true' : undefined };
  if (s.type === 'boolean') return html`<input type="checkbox" ...${common} checked=${!!value} onChange=${(e) => set(e.target.checked)} />`;
  if (Array.isArray(s.enum))
    return html`<select ...${common} value=${value} onChange=${(e) => set(s.enum[Number(e.target.value)] ?? '')}>
      <option value="">— choose —</option>
      ${s.enum.map((o, i) => html`<option value=${i} selected=${o === value}>${String(o)}</option>`)}
    </select>`;
  if (s.type === 'array' && Array.isArray(s.items?.enum))
    return html`<fieldset ...${common} class="choices" aria-label=${s.title ?? field.name}>
      ${s.items.enum.map(
        (o) =>
          html`<label
            ><input type="checkbox" checked=${value.includes(o)} onChange=${(e) => set(e.target.checked ? [...value, o] : value.filter((x) => x !== o))} />
            ${String(o)}</label
          >`,
      )}
    </fieldset>`;
  if (s.type === 'number' || s.type === 'integer')
    return html`<input
      type="number"
      step=${s.type === 'integer' ? 1 : 'any'}
      min=${s.minimum}
      max=${s.maximum}
      ...${common}
      value=${value}
      onInput=${(e) => set(e.target.value)}
    />`;
  if (s.type === 'string' && (s.maxLength ?? 0) > 200) return html`<textarea ...${common} value=${value} onInput=${(e) => set(e.target.value)}></textarea>`;
  return html`<input type=${INPUT_TYPES[s.format] ?? 'text'} ...${common} value=${value} onInput=${(e) => set(e.target.value)} />`;
}

/** `details`: the server's 422 details ({location, message}); `onSubmit(answer)` may throw to show them. */
export function SchemaForm({ schema, onSubmit, submitLabel = 'Send answer', idPrefix = 'f' }) {
  const fields = fieldsOf(schema);
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((f) => [f.name, initial(f.schema)])));
  const [errors, setErrors] = useState({ fields: {}, general: null });
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors({ fields: {}, general: null });
    try {
      await onSubmit(answerOf(fields, values));
    } catch (err) {
      const byField = {};
      const rest = [];
      for (const d of err.details ?? []) {
        const f = fields.find((x) => d.location === x.path || d.location?.startsWith(`${x.path}.`) || d.location?.startsWith(`${x.path}[`));
        if (f) byField[f.name] = [...(byField[f.name] ?? []), d.message ?? 'invalid'];
        else rest.push(d);
      }
      setErrors({ fields: byField, general: { message: err.message, code: err.code, details: rest } });
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="schema-form" onSubmit=${submit} novalidate>
    ${fields.map((f) => {
      const id = `${idPrefix}-${f.name}`;
      const help = f.schema.description ? `${id}-help` : undefined;
      const err = errors.fields[f.name];
      const described = [help, err ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
      const set = (v) => setValues((vs) => ({ ...vs, [f.name]: v }));
      return html`<div class=${`field ${err ? 'invalid' : ''}`}>
        <label for=${id}>${f.schema.title ?? f.name}${f.required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</label>
        <${Control} field=${f} value=${values[f.name]} set=${set} id=${id} described=${described} />
        ${help ? html`<p class="help" id=${help}>${f.schema.description}</p>` : null}
        ${err ? html`<p class="field-error" id=${`${id}-error`} role="alert">${err.join('; ')}</p>` : null}
      </div>`;
    })}
    ${errors.general ? html`<p class="form-error" role="alert">${errors.general.message}</p>` : null}
    <button type="submit" disabled=${busy}>${busy ? 'Sending…' : submitLabel}</button>
  </form>`;
}
