/** Reverse index: dependency key → keys of the VMs that refer to it (no polling, no resync). */

export class DependencyIndex {
  private readonly byDependency = new Map<string, Set<string>>();
  private readonly byVM = new Map<string, readonly string[]>();

  /** Records the dependencies a VM has now (replacing what it had). */
  set(vmKey: string, dependencies: readonly string[]): void {
    this.remove(vmKey);
    this.byVM.set(vmKey, dependencies);
    for (const d of dependencies) {
      let vms = this.byDependency.get(d);
      if (!vms) this.byDependency.set(d, (vms = new Set()));
      vms.add(vmKey);
    }
  }

  remove(vmKey: string): void {
    for (const d of this.byVM.get(vmKey) ?? []) {
      const vms = this.byDependency.get(d);
      vms?.delete(vmKey);
      if (vms?.size === 0) this.byDependency.delete(d);
    }
    this.byVM.delete(vmKey);
  }

  dependents(dependencyKey: string): string[] {
    return [...(this.byDependency.get(dependencyKey) ?? [])];
  }

  size(): number {
    return this.byVM.size;
  }
}
