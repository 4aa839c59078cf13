def read_facts(data_dir, refs, today):
    return None
