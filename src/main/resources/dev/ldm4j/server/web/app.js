// The ldm4j web page: a client of the server's AUTOMATIC1111 API (/sdapi/v1/...), nothing more.
'use strict';

const $ = id => document.getElementById(id);
const form = $('params');
const mask = $('mask-canvas');
let initImage = null;   // data URL of the init image, or null for text-to-image
let maskPainted = false;
let polling = false;

async function api(path, body) {
  const r = await fetch(path, body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!r.ok) {
    throw new Error(data && data.detail ? data.detail : r.status + ' ' + r.statusText);
  }
  return data;
}

function showError(e) {
  $('error').textContent = e ? String(e.message || e) : '';
}

function option(select, value, label, name) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  if (name) o.dataset.name = name;
  select.append(o);
}

/** Selects the option whose value, label or API name is `value` (case aside); false when none is. */
function choose(select, value) {
  if (value === undefined || value === null) return false;
  const v = String(value).toLowerCase();
  const o = [...select.options].find(o => [o.value, o.textContent, o.dataset.name || '']
      .some(s => s.toLowerCase() === v));
  if (o) select.value = o.value;
  return !!o;
}

function setField(id, value) {
  if (value !== undefined && value !== null && value !== '') $(id).value = value;
}

async function loadLists() {
  const [samplers, schedulers, models, options, loras] = await Promise.all([
    api('/sdapi/v1/samplers'), api('/sdapi/v1/schedulers'), api('/sdapi/v1/sd-models'),
    api('/sdapi/v1/options'), api('/sdapi/v1/loras')]);
  samplers.forEach(s => option($('sampler'), s.name, s.name));
  choose($('sampler'), 'Euler a');
  schedulers.forEach(s => option($('scheduler'), s.label, s.label, s.name));
  models.forEach(m => option($('model'), m.title, m.model_name, m.title));
  choose($('model'), options.sd_model_checkpoint);
  if (loras.length === 0) option($('lora'), '', '(none)');
  loras.forEach(l => option($('lora'), l.name, l.alias || l.name));
  $('lora-add').disabled = loras.length === 0;
}

$('model').addEventListener('change', async () => {
  const select = $('model');
  select.disabled = $('generate').disabled = true;
  $('status').textContent = 'Loading ' + select.value + '…';
  try {
    await api('/sdapi/v1/options', {sd_model_checkpoint: select.value});
    $('status').textContent = 'Model: ' + select.value;
    showError(null);
  } catch (e) {
    showError(e);
  } finally {
    select.disabled = $('generate').disabled = false;
  }
});

$('lora-add').addEventListener('click', () => {
  const name = $('lora').value;
  if (!name) return;
  const p = $('prompt');
  p.value = (p.value.trim() + ' <lora:' + name + ':1>').trim();
});

// ---- image to image and the mask ------------------------------------------------------------------------

function setInitImage(dataUrl) {
  const img = $('init-preview');
  img.onload = () => {
    mask.width = img.naturalWidth;   // also clears the mask
    mask.height = img.naturalHeight;
    maskPainted = false;
    $('width').value = img.naturalWidth;
    $('height').value = img.naturalHeight;
    $('canvas-wrap').hidden = false;
    initImage = dataUrl;
  };
  img.src = dataUrl;
}

function clearInitImage() {
  initImage = null;
  maskPainted = false;
  $('init-image').value = '';
  $('canvas-wrap').hidden = true;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

$('init-image').addEventListener('change', async e => {
  if (e.target.files[0]) setInitImage(await readFile(e.target.files[0]));
});
$('init-clear').addEventListener('click', clearInitImage);
$('brush').addEventListener('input', () => { $('brush-size').value = $('brush').value; });
$('mask-clear').addEventListener('click', () => {
  mask.getContext('2d').clearRect(0, 0, mask.width, mask.height);
  maskPainted = false;
});

let last = null;
function canvasPoint(e) {
  const r = mask.getBoundingClientRect();
  return [(e.clientX - r.left) * mask.width / r.width, (e.clientY - r.top) * mask.height / r.height];
}
function paint(to) {
  const g = mask.getContext('2d');
  g.strokeStyle = g.fillStyle = '#fff';
  g.lineCap = 'round';
  g.lineWidth = 2 * $('brush').value;
  g.beginPath();
  g.moveTo(...(last || to));
  g.lineTo(...to);
  g.stroke();
  last = to;
  maskPainted = true;
}
mask.addEventListener('pointerdown', e => {
  mask.setPointerCapture(e.pointerId);
  last = null;
  paint(canvasPoint(e));
});
mask.addEventListener('pointermove', e => { if (last) paint(canvasPoint(e)); });
mask.addEventListener('pointerup', () => { last = null; });

/** The painted strokes as A1111's mask: white repaints, black keeps; null when nothing is painted. */
function maskDataUrl() {
  if (!maskPainted) return null;
  const c = document.createElement('canvas');
  c.width = mask.width;
  c.height = mask.height;
  const g = c.getContext('2d');
  g.fillStyle = '#000';
  g.fillRect(0, 0, c.width, c.height);
  g.drawImage(mask, 0, 0);
  return c.toDataURL('image/png');
}

// ---- generating -----------------------------------------------------------------------------------------

function request() {
  const body = {
    prompt: $('prompt').value,
    negative_prompt: $('negative_prompt').value,
    width: parseInt($('width').value, 10),
    height: parseInt($('height').value, 10),
    steps: parseInt($('steps').value, 10),
    cfg_scale: parseFloat($('cfg_scale').value),
    sampler_name: $('sampler').value,
    scheduler: $('scheduler').value,
    seed: parseInt($('seed').value || '-1', 10),
    batch_size: 1,
    n_iter: 1,
  };
  if (initImage) {
    body.init_images = [initImage];
    body.denoising_strength = parseFloat($('denoising_strength').value);
    const m = maskDataUrl();
    if (m) body.mask = m;
  }
  return body;
}

async function pollProgress() {
  while (polling) {
    try {
      const p = await api('/sdapi/v1/progress');
      if (!polling) break;
      $('progress').value = p.progress;
      $('status').textContent = p.textinfo || '';
      if (p.current_image) {
        $('preview').src = 'data:image/png;base64,' + p.current_image;
        $('preview').hidden = false;
      }
    } catch (e) {
      // a missed poll is shown by the next one
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

form.addEventListener('submit', async e => {
  e.preventDefault();
  const body = request();
  const path = body.init_images ? '/sdapi/v1/img2img' : '/sdapi/v1/txt2img';
  $('generate').disabled = true;
  $('progress').value = 0;
  $('status').textContent = 'Waiting…';
  showError(null);
  polling = true;
  pollProgress();
  try {
    const r = await api(path, body);
    addToGallery(r);
    $('progress').value = r.images.length ? 1 : 0;
    $('status').textContent = JSON.parse(r.info).interrupted ? 'Interrupted' : 'Done';
  } catch (err) {
    showError(err);
    $('status').textContent = '';
  } finally {
    polling = false;
    $('preview').hidden = true;
    $('generate').disabled = false;
  }
});

$('interrupt').addEventListener('click', () => api('/sdapi/v1/interrupt', {}).catch(showError));

// ---- the gallery and reading parameters back ------------------------------------------------------------

function addToGallery(r) {
  const info = JSON.parse(r.info);
  r.images.forEach((b64, i) => {
    // the prompt as sent: info's has its <lora:...> tags taken out
    const params = {
      prompt: r.parameters && typeof r.parameters.prompt === 'string' ? r.parameters.prompt : info.prompt,
      negative_prompt: info.negative_prompt, seed: info.all_seeds[i], steps: info.steps,
      cfg_scale: info.cfg_scale, width: info.width, height: info.height, sampler: info.sampler_name,
      scheduler: info.scheduler, denoising_strength: info.denoising_strength,
    };
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'reuse';
    button.setAttribute('aria-label', 'Reuse the parameters of seed ' + params.seed);
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    img.alt = img.title = info.infotexts[i];
    img.dataset.params = JSON.stringify(params);
    button.append(img);
    button.addEventListener('click', () => applyParams(params));
    const caption = document.createElement('figcaption');
    caption.textContent = 'Seed ' + params.seed;
    const figure = document.createElement('figure');
    figure.append(button, caption);
    $('gallery').prepend(figure);
  });
}

function applyParams(p) {
  $('prompt').value = p.prompt;
  $('negative_prompt').value = p.negative_prompt || '';
  ['seed', 'steps', 'cfg_scale', 'width', 'height', 'denoising_strength'].forEach(k => setField(k, p[k]));
  choose($('sampler'), p.sampler);
  choose($('scheduler'), p.scheduler || 'Automatic');
}

/** A PNG's parameters text, read by /sdapi/v1/png-info, into the form. */
async function readParameters(dataUrl) {
  try {
    const r = await api('/sdapi/v1/png-info', {image: dataUrl});
    const p = r.parameters;
    if (!r.info) throw new Error('this image carries no parameters');
    applyParams({
      prompt: p['Prompt'], negative_prompt: p['Negative prompt'], seed: p['Seed'], steps: p['Steps'],
      cfg_scale: p['CFG scale'], width: p['Size-1'], height: p['Size-2'], sampler: p['Sampler'],
      scheduler: p['Schedule type'], denoising_strength: p['Denoising strength'],
    });
    showError(null);
    $('status').textContent = 'Parameters read';
  } catch (e) {
    showError(e);
  }
}

$('png-info-file').addEventListener('change', async e => {
  if (e.target.files[0]) readParameters(await readFile(e.target.files[0]));
});

document.addEventListener('dragover', e => e.preventDefault());
document.addEventListener('drop', async e => {
  e.preventDefault();
  const file = e.dataTransfer.files[0];
  if (!file) return;
  const dataUrl = await readFile(file);
  // on the image-to-image box it is the init image; anywhere else its parameters are read
  if ($('img2img').contains(e.target)) setInitImage(dataUrl); else readParameters(dataUrl);
});

loadLists().catch(showError);
