process.stdout.write("vigil: not built yet\n");
