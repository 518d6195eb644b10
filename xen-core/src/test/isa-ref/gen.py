import re,subprocess
out=subprocess.run(["riscv64-linux-gnu-objdump","-d","-M","no-aliases","c.o"],capture_output=True,text=True).stdout
rows=[]
for line in out.splitlines():
    m=re.match(r"\s+([0-9a-f]+):\s+([0-9a-f]{4})\s+(\S+)\s*(.*)",line)
    if not m: continue
    addr=int(m.group(1),16); enc=m.group(2); mn=m.group(3); ops=m.group(4).split('#')[0].strip()
    o=[x.strip() for x in ops.split(',')] if ops else []
    b=mn[2:]
    if mn=='c.addi4spn': t=f"addi {o[0]},{o[1]},{o[2]}"
    elif mn in('c.fldsp','c.lwsp','c.ldsp','c.fsdsp','c.swsp','c.sdsp'): t=f"{b[:-2]} {o[0]},{o[1]}"
    elif mn in('c.fld','c.lw','c.ld','c.fsd','c.sw','c.sd'): t=f"{b} {o[0]},{o[1]}"
    elif mn=='c.nop': t="addi zero,zero,0"
    elif mn in('c.addi','c.addiw','c.andi','c.srli','c.srai','c.slli'): t=f"{b} {o[0]},{o[0]},{o[1]}"
    elif mn=='c.li': t=f"addi {o[0]},zero,{o[1]}"
    elif mn=='c.addi16sp': t=f"addi sp,sp,{o[1]}"
    elif mn=='c.lui': t=f"lui {o[0]},{o[1]}"
    elif mn in('c.sub','c.xor','c.or','c.and','c.subw','c.addw','c.add'): t=f"{b} {o[0]},{o[0]},{o[1]}"
    elif mn=='c.mv': t=f"add {o[0]},zero,{o[1]}"
    elif mn=='c.j': t=f"jal zero,.{int(o[0].split()[0],16)-addr:+d}"
    elif mn in('c.beqz','c.bnez'): t=f"{'beq' if mn=='c.beqz' else 'bne'} {o[0]},zero,.{int(o[1].split()[0],16)-addr:+d}"
    elif mn=='c.jr': t=f"jalr zero,0({o[0]})"
    elif mn=='c.jalr': t=f"jalr ra,0({o[0]})"
    elif mn=='c.ebreak': t="ebreak"
    else: raise Exception(mn)
    rows.append((enc,mn+" "+ops,t))
src=".option norvc\n"+"\n".join(r[2] for r in rows)+"\n"
open("u.s","w").write(src)
subprocess.run(["riscv64-linux-gnu-as","-march=rv64g","-o","u.o","u.s"],check=True)
out2=subprocess.run(["riscv64-linux-gnu-objdump","-d","-M","no-aliases","u.o"],capture_output=True,text=True).stdout
encs=[m.group(1) for m in (re.match(r"\s+[0-9a-f]+:\s+([0-9a-f]{8})\s",l) for l in out2.splitlines()) if m]
assert len(encs)==len(rows),(len(encs),len(rows))
with open("rvc-vectors.txt","w") as f:
    f.write("# compressed expanded  (generated with GNU as: rv64gc vs rv64g; see RvcTest)\n")
    for r,e in zip(rows,encs): f.write(f"{r[0]} {e} {r[1]}\n")
print(len(rows))
