// The exported symbols of a shared object or executable a target has mapped, read from its ELF
// file's .dynsym: where libpython's and libc's functions are, without asking the target (or
// gdb, whose symbol loading stopped the worker ~0.5 s longer). The file is the target's and is
// read as hostile: 64-bit little-endian only, every offset checked against the file, capped.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** .dynsym and .dynstr of libc or libpython are ~100-300 KiB; anything far larger is not what we want. */
const MAX_TABLE_BYTES = 8 << 20;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const STT_OBJECT = 1;
const PT_LOAD = 1;
const ET_EXEC = 2;

export interface ElfExports {
  /** ET_EXEC: loaded at its own addresses (a non-PIE python3.11); else relative to its load base. */
  fixedAddress: boolean;
  /** The lowest PT_LOAD's virtual address, page-aligned: what the first mapping's start corresponds to. */
  firstLoadVaddr: bigint;
  /** Defined symbols by name: value (an address relative to the load base unless fixedAddress). */
  symbols: Map<string, bigint>;
  /** The first 8 bytes of each wanted data symbol, from the file: a constant's value, such as Py_Version. */
  data: Map<string, Buffer>;
}

/** The wanted names' values, or undefined when the file is not a 64-bit little-endian ELF we can read. */
export function readElfExports(path: string, wanted: readonly string[]): ElfExports | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    const size = stat.isFile() ? stat.size : -1;
    if (size < 64) return undefined;
    const read = (offset: bigint, length: number): Buffer | undefined => {
      if (offset < 0n || length < 0 || offset + BigInt(length) > BigInt(size)) return undefined;
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buffer, done, length - done, Number(offset) + done);
        if (n === 0) return undefined;
        done += n;
      }
      return buffer;
    };
    const header = read(0n, 64);
    // \x7fELF, class 2 (64-bit), data 1 (little-endian)
    if (!header || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return undefined;
    const type = header.readUInt16LE(16);
    const phoff = header.readBigUInt64LE(32);
    const shoff = header.readBigUInt64LE(40);
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const shentsize = header.readUInt16LE(58);
    const shnum = header.readUInt16LE(60);
    if (phentsize < 56 || shentsize < 64 || phnum > 256 || shnum > 4096) return undefined;

    const programs = read(phoff, phentsize * phnum);
    const sections = read(shoff, shentsize * shnum);
    if (!programs || !sections) return undefined;
    let firstLoadVaddr: bigint | undefined;
    for (let i = 0; i < phnum; i += 1) {
      const at = i * phentsize;
      if (programs.readUInt32LE(at) !== PT_LOAD) continue;
      const vaddr = programs.readBigUInt64LE(at + 16);
      if (firstLoadVaddr === undefined || vaddr < firstLoadVaddr) firstLoadVaddr = vaddr;
    }
    if (firstLoadVaddr === undefined) return undefined;

    const section = (index: number) => {
      if (index < 0 || index >= shnum) return undefined;
      const at = index * shentsize;
      return {
        type: sections.readUInt32LE(at + 4),
        addr: sections.readBigUInt64LE(at + 16),
        offset: sections.readBigUInt64LE(at + 24),
        size: sections.readBigUInt64LE(at + 32),
        link: sections.readUInt32LE(at + 40),
        entsize: sections.readBigUInt64LE(at + 56),
      };
    };
    const all = Array.from({ length: shnum }, (_, i) => section(i)!);
    const dynsym = all.find((s) => s.type === SHT_DYNSYM);
    const dynstr = dynsym && section(dynsym.link);
    if (!dynsym || !dynstr || dynsym.size > BigInt(MAX_TABLE_BYTES) || dynstr.size > BigInt(MAX_TABLE_BYTES)) return undefined;
    const table = read(dynsym.offset, Number(dynsym.size));
    const strings = read(dynstr.offset, Number(dynstr.size));
    if (!table || !strings) return undefined;

    const want = new Set(wanted);
    const symbols = new Map<string, bigint>();
    const objects: string[] = [];
    const entry = Number(dynsym.entsize) || 24;
    for (let at = 0; at + 24 <= table.length && symbols.size < want.size; at += entry) {
      const nameOffset = table.readUInt32LE(at);
      const sectionIndex = table.readUInt16LE(at + 6);
      if (sectionIndex === 0 || nameOffset >= strings.length) continue; // undefined here: imported
      const end = strings.indexOf(0, nameOffset);
      const name = strings.toString('latin1', nameOffset, end < 0 ? strings.length : end);
      if (want.has(name)) symbols.set(name, table.readBigUInt64LE(at + 8));
      if (want.has(name) && (table[at + 4]! & 0xf) === STT_OBJECT) objects.push(name);
    }
    const data = new Map<string, Buffer>();
    for (const name of objects) {
      const address = symbols.get(name)!;
      const holder = all.find((s) => s.type !== SHT_NOBITS && s.addr !== 0n && address >= s.addr && address + 8n <= s.addr + s.size);
      const bytes = holder && read(holder.offset + (address - holder.addr), 8);
      if (bytes) data.set(name, bytes);
    }
    return { fixedAddress: type === ET_EXEC, firstLoadVaddr: firstLoadVaddr & ~0xfffn, symbols, data };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
